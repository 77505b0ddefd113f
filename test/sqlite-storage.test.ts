import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sql } from 'kysely';
import { migrateToLatest } from '../src/db/database.js';
import { buildUserRow } from '../src/directory/user-row.js';
import { insertUsers } from '../src/directory/users.repository.js';
import { openTestDatabase, testEngine } from './helpers/test-app.js';

// Migration 0008 rebuilds SQLite's keyed side tables WITHOUT ROWID: the rows a directory already
// has must come through unchanged, with their indexes.
describe.skipIf(testEngine !== 'sqlite')('SQLite side tables without rowid', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const now = '2026-11-01T00:00:00.000Z';
  const users = Array.from({ length: 50 }, (_, i) =>
    buildUserRow({
      tenantId: 't',
      displayName: `Ana Lopez ${i}`,
      userPrincipalName: `ana${i}_partner.test#EXT#@t.test`,
      mailNickname: `ana${i}`,
      userType: 'Guest',
      createdAt: now,
      mail: `ana${i}@partner.test`,
      otherMails: [`ana.lopez${i}@partner.test`],
      identities: [{ signInType: 'emailAddress', issuer: 't.test', issuerAssignedId: `ana${i}@partner.test` }],
    }),
  );
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
    await database.db
      .insertInto('tenants')
      .values({ id: 't', display_name: 'T', initial_domain: 't.test', created_at: now, authorization_policy: '{}', collaboration_policy: '{}' })
      .execute();
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
    await migrateToLatest(database.db);
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
