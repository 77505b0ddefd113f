import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sql } from 'kysely';
import { migrateToLatest } from '../src/db/database.js';
import { insertUsers } from '../src/directory/users.repository.js';
import { openTestDatabase, testEngine } from './helpers/test-app.js';
import { insertStoredTenant, storedGuests } from './helpers/stored-rows.js';

// Migration 0008 rebuilds SQLite's keyed side tables WITHOUT ROWID: the rows a directory already
// has must come through unchanged, with their indexes.
describe.skipIf(testEngine !== 'sqlite')('SQLite side tables without rowid', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const now = '2026-11-01T00:00:00.000Z';
  const users = storedGuests(50);

  const snapshot = async () => ({
    terms: (await sql`select * from user_search_terms order by tenant_id, field, term, user_id`.execute(database.db)).rows,
    identities: (await sql`select * from user_identities order by user_id`.execute(database.db)).rows,
    otherMails: (await sql`select * from user_other_mails order by user_id`.execute(database.db)).rows,
    memberships: (await sql`select * from group_memberships order by user_id`.execute(database.db)).rows,
  });
  let before: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    database = await openTestDatabase();
    await migrateToLatest(database.db, '2026-11-23-0007-mail-templates');
    await insertStoredTenant(database.db);
    await insertUsers(database.db, users);
    await database.db
      .insertInto('groups')
      .values({
        tenant_id: 't',
        id: 'g',
        display_name: 'Partners',
        display_name_lower: 'partners',
        description: null,
        mail_nickname: 'partners',
        mail: null,
        mail_enabled: 0,
        security_enabled: 1,
        group_types: '[]',
        visibility: null,
        created_at: now,
        deleted_at: null,
      })
      .execute();
    await database.db
      .insertInto('group_memberships')
      .values(users.slice(0, 10).map((u) => ({ tenant_id: 't', group_id: 'g', user_id: u.id, relation: 'member', created_at: now })))
      .execute();
    before = await snapshot();
    await migrateToLatest(database.db, '2026-11-24-0008-sqlite-without-rowid');
  });
  afterAll(() => database.destroy());

  test('every row survives the rebuild and the tables are stored without rowid', async () => {
    expect(before.terms.length).toBeGreaterThan(users.length);
    expect(before.memberships).toHaveLength(10);
    expect(await snapshot()).toEqual(before);
    const tables = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'table'`.execute(database.db);
    for (const name of ['user_search_terms', 'user_identities', 'user_other_mails', 'audit_log_targets', 'user_sponsors', 'group_memberships'])
      expect(tables.rows.find((t) => t.name === name)?.sql).toMatch(/without rowid$/);
    const indexes = (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and sql is not null`.execute(database.db)).rows.map(
      (r) => r.name,
    );
    expect(indexes).toEqual(
      expect.arrayContaining(['user_search_terms_user', 'user_identities_assigned', 'user_other_mails_address', 'group_memberships_user']),
    );
  });

  test('the rebuilt tables still enforce their keys and their users', async () => {
    await expect(insertUsers(database.db, [users[0]!])).rejects.toThrow(/UNIQUE/);
    await expect(
      database.db.insertInto('user_other_mails').values({ tenant_id: 't', user_id: 'no-such-user', address_lower: 'x@partner.test' }).execute(),
    ).rejects.toThrow(/FOREIGN KEY/);
    await database.db.deleteFrom('users').where('id', '=', users[1]!.id).execute();
    const left = await sql<{ n: number }>`select count(*) as n from user_search_terms where user_id = ${users[1]!.id}`.execute(database.db);
    expect(left.rows[0]!.n).toBe(0);
  });
});

describe.skipIf(testEngine !== 'sqlite')('a new SQLite database', () => {
  test('uses 16 KiB pages and the write-ahead log', async () => {
    const database = await openTestDatabase();
    try {
      const pageSize = await sql<{ page_size: number }>`pragma page_size`.execute(database.db);
      expect(pageSize.rows[0]!.page_size).toBe(16384);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      expect(mode.rows[0]!.journal_mode).toBe('wal');
    } finally {
      await database.destroy();
    }
  });
});
