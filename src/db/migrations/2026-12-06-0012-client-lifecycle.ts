import type { Kysely } from 'kysely';

// API clients get a lifecycle (list, rename, disable, delete, rotate the secret). The secret's
// version is carried by every access token, so a rotation ends the tokens of the old secret; the
// lower-cased name is what lists filter and sort by.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_clients')
    .addColumn('display_name_lower', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('api_clients')
    .addColumn('secret_version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('api_clients')
    .addColumn('secret_changed_at', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  // Lower-cased here rather than in SQL: SQLite's lower() folds ASCII only, PostgreSQL's every letter.
  const trx = db as Kysely<{ api_clients: { id: string; display_name: string; display_name_lower: string; created_at: string; secret_changed_at: string } }>;
  for (const c of await trx.selectFrom('api_clients').select(['id', 'display_name', 'created_at']).execute())
    await trx
      .updateTable('api_clients')
      .set({ display_name_lower: c.display_name.toLowerCase(), secret_changed_at: c.created_at })
      .where('id', '=', c.id)
      .execute();
  await db.schema.createIndex('api_clients_name').on('api_clients').columns(['tenant_id', 'display_name_lower', 'id']).execute();
  await db.schema.createIndex('api_clients_created').on('api_clients').columns(['tenant_id', 'created_at', 'id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}
