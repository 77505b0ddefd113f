import type { Kysely } from 'kysely';

// A bulk job takes an upload's lines in order, so it keeps its place in the upload (next_line)
// instead of looking pending lines up in an index on status. That index had to move every line's
// entry when the job wrote the line's outcome: two index writes per invited guest, and one more at
// upload. The result file's "failed only" reads the upload's lines in order and skips the others.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('bulk_invitations')
    .addColumn('next_line', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.dropIndex('bulk_invitation_rows_status').execute();
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}
