import { type Kysely, PostgresAdapter, sql, type ColumnDefinitionBuilder } from 'kysely';

// Smart lockout of password sign-in: one row per account (or per unknown sign-in name) and per
// client address. A table of its own rather than `rate_limits`: a lockout keeps state that a
// fixed-window counter has no room for (how often the key was locked, until when), and it is
// cleared on a successful sign-in, not when a window ends.
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const key = (c: ColumnDefinitionBuilder) => (pg ? c.modifyFront(sql`collate "C"`) : c);

  await db.schema
    .createTable('sign_in_lockouts')
    .addColumn('key', 'text', (c) => key(c).primaryKey())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('lockouts', 'integer', (c) => c.notNull())
    .addColumn('locked_until', 'text')
    .addColumn('last_attempt_at', 'text', (c) => key(c).notNull())
    .execute();
  // The hourly upkeep forgets keys that have been quiet for a day.
  await db.schema.createIndex('sign_in_lockouts_last_attempt').on('sign_in_lockouts').column('last_attempt_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}
