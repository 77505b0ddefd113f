import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrateToLatest } from '../src/db/database.js';
import { insertUsers, userIndexRows } from '../src/directory/users.repository.js';
import { call, createGuest, createTestApp, openTestDatabase, testEngine, type Caller, type TestApp } from './helpers/test-app.js';
import { insertStoredTenant, storedGuests } from './helpers/stored-rows.js';

// Search terms are kept by their key, computed from the user's row (migration 0009 dropped the
// user_id index and the cascade): every change and purge must leave exactly the row's own terms.

const termsOf = async (t: TestApp, userId: string) =>
  (await t.database.db.selectFrom('user_search_terms').select(['field', 'term']).where('user_id', '=', userId).orderBy('field').orderBy('term').execute()).map(
    (r) => `${r.field}:${r.term}`,
  );

describe(`search terms kept by key (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  const search = async (value: string) => {
    const res = await call(t, admin, {
      method: 'GET',
      url: `/v1.0/users?$search="displayName:${value}"&$select=id`,
      headers: { consistencylevel: 'eventual' },
    });
    expect(res.statusCode).toBe(200);
    return (res.json().value as { id: string }[]).map((u) => u.id);
  };

  beforeAll(async () => {
    t = await createTestApp();
    admin = { token: await t.clientToken(['User.ReadWrite.All']) };
  });
  afterAll(() => t.close());

  it('a renamed user keeps only the terms of its new name and mail', async () => {
    const id = await createGuest(t, admin, 'ana.lopez@fabrikam.test', 'Ana Lopez');
    expect(await search('lopez')).toEqual([id]);
    const res = await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${id}`, payload: { displayName: 'Ana Vries', mail: 'ana.vries@fabrikam.test' } });
    expect(res.statusCode).toBe(204);
    expect(await search('lopez')).toEqual([]);
    expect(await search('vries')).toEqual([id]);
    const stored = (await t.database.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow())!;
    const expected = userIndexRows(stored)
      .terms.map((x) => `${x.field}:${x.term}`)
      .sort();
    expect(await termsOf(t, id)).toEqual(expected);
    expect(expected).toContain('mail:ana.vries@fabrikam.test');
  });

  it('a purged user leaves no terms behind, a soft-deleted one keeps them for its restore', async () => {
    const id = await createGuest(t, admin, 'purged.one@fabrikam.test', 'Purged One');
    const kept = await termsOf(t, id);
    expect(kept.length).toBeGreaterThan(3);
    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${id}` })).statusCode).toBe(204);
    expect(await termsOf(t, id)).toEqual(kept);
    expect(await search('purged')).toEqual([]);
    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/directory/deletedItems/${id}` })).statusCode).toBe(204);
    expect(await termsOf(t, id)).toEqual([]);
    expect(await t.database.db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
  });
});

describe(`migration 0009 over an existing directory (${testEngine})`, () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const users = storedGuests(40);

  const allTerms = async () => (await sql`select * from user_search_terms order by tenant_id, field, term, user_id`.execute(database.db)).rows;
  let before: unknown[];

  beforeAll(async () => {
    database = await openTestDatabase();
    await migrateToLatest(database.db, '2026-11-24-0008-sqlite-without-rowid');
    await insertStoredTenant(database.db);
    await insertUsers(database.db, users);
    before = await allTerms();
    await migrateToLatest(database.db);
  });
  afterAll(() => database.destroy());

  it('keeps every term, and the table has neither the user_id index nor the foreign key', async () => {
    expect(before.length).toBe(users.reduce((n, u) => n + userIndexRows(u).terms.length, 0));
    expect(await allTerms()).toEqual(before);
    const { rows } =
      testEngine === 'postgres'
        ? await sql<{ n: number }>`
            select (select count(*) from pg_indexes where tablename = 'user_search_terms' and schemaname = current_schema() and indexname = 'user_search_terms_user')
                 + (select count(*) from pg_constraint where conrelid = 'user_search_terms'::regclass and contype = 'f') as n`.execute(database.db)
        : await sql<{ n: number }>`
            select (select count(*) from sqlite_master where name = 'user_search_terms_user')
                 + (select count(*) from pragma_foreign_key_list('user_search_terms')) as n`.execute(database.db);
    expect(Number(rows[0]!.n)).toBe(0);
    // The key still holds: a term cannot be stored twice.
    await expect(insertUsers(database.db, [users[0]!])).rejects.toThrow();
  });
});
