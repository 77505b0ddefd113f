import { sql, SqliteAdapter, type Kysely } from 'kysely';

// A user's search terms are derived from the user's row (display name, mail, sign-in name), so
// the code that changes or purges a user deletes exactly those terms by their key. The index on
// user_id, and the foreign key whose cascade needed it, only served those deletes, and cost every
// new user eight more index entries — about a twelfth of a bulk invitation's writes.
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    // SQLite cannot drop a foreign key: the table is rebuilt without it (and so without the index).
    await sql`create table user_search_terms_rebuilt (
      tenant_id text not null,
      field text not null,
      term text not null,
      user_id text not null,
      constraint user_search_terms_pk primary key (tenant_id, field, term, user_id)
    ) without rowid`.execute(db);
    await sql`insert into user_search_terms_rebuilt select tenant_id, field, term, user_id from user_search_terms`.execute(db);
    await sql`drop table user_search_terms`.execute(db);
    await sql`alter table user_search_terms_rebuilt rename to user_search_terms`.execute(db);
    return;
  }
  const { rows } = await sql<{ name: string }>`
    select conname as name from pg_constraint
    where conrelid = 'user_search_terms'::regclass and contype = 'f'`.execute(db);
  for (const { name } of rows) await sql`alter table user_search_terms drop constraint ${sql.id(name)}`.execute(db);
  await sql`drop index user_search_terms_user`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Foyer migrations are forward-only');
}
