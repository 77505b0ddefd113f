import type { Kysely } from 'kysely';

// A queued message can name the template its bodies are rendered from when it is sent or shown
// (invitations), instead of storing them: a bulk invitation of 100,000 guests would otherwise
// store 100,000 rendered emails.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('mail_messages').addColumn('template', 'text').execute();
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}
