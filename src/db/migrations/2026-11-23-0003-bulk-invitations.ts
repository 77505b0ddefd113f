import { type Kysely, PostgresAdapter, sql, type ColumnDefinitionBuilder } from 'kysely';

// Bulk invitations: one row per upload and one per line of its file. The lines are stored at
// upload time, so the job that invites them can run in any process and resume after a crash.
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const key = (c: ColumnDefinitionBuilder) => (pg ? c.modifyFront(sql`collate "C"`) : c);
  const keyNotNull = (c: ColumnDefinitionBuilder) => key(c).notNull();

  await db.schema
    .createTable('bulk_invitations')
    .addColumn('tenant_id', 'text', (c) => keyNotNull(c).references('tenants.id'))
    .addColumn('id', 'text', (c) => key(c).primaryKey())
    .addColumn('status', 'text', keyNotNull)
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text', keyNotNull)
    .addColumn('created_by_type', 'text', (c) => c.notNull())
    .addColumn('created_by_display_name', 'text', (c) => c.notNull())
    .addColumn('created_by_upn', 'text')
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('processed', 'integer', (c) => c.notNull())
    .addColumn('succeeded', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('already_invited', 'integer', (c) => c.notNull())
    .addColumn('mail_run_at', 'text')
    .addColumn('created_at', 'text', keyNotNull)
    .addColumn('completed_at', 'text')
    .execute();
  await db.schema.createIndex('bulk_invitations_created').on('bulk_invitations').columns(['tenant_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('bulk_invitation_rows')
    .addColumn('tenant_id', 'text', keyNotNull)
    .addColumn('bulk_id', 'text', (c) => keyNotNull(c).references('bulk_invitations.id').onDelete('cascade'))
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('redirect_url', 'text')
    .addColumn('send_email', 'integer', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('groups', 'text', (c) => c.notNull())
    .addColumn('status', 'text', keyNotNull)
    .addColumn('user_id', 'text', key)
    .addColumn('invitation_id', 'text', key)
    .addColumn('error_column', 'text')
    .addColumn('reason', 'text')
    .addPrimaryKeyConstraint('bulk_invitation_rows_pk', ['bulk_id', 'line'])
    .execute();
  // The job takes pending lines in order; the results page filters by outcome.
  await db.schema.createIndex('bulk_invitation_rows_status').on('bulk_invitation_rows').columns(['bulk_id', 'status', 'line']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}
