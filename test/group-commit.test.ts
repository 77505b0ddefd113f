import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTransact, type Transact } from '../src/db/group-commit.js';
import { migrateToLatest } from '../src/db/database.js';
import { openTestDatabase } from './helpers/test-app.js';

// The runner used by invitations: on SQLite the units of one event-loop turn share a commit.
describe('group commit', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let transact: Transact;
  const blocked = (trx: Parameters<Parameters<Transact>[0]>[0], email: string) =>
    trx.insertInto('blocked_invitees').values({ tenant_id: 't', email_lower: email, created_at: '2026-11-01T00:00:00.000Z' }).execute();
  const stored = async () =>
    (await database.db.selectFrom('blocked_invitees').select('email_lower').orderBy('email_lower').execute()).map((r) => r.email_lower);

  beforeAll(async () => {
    database = await openTestDatabase();
    await migrateToLatest(database.db);
    await database.db
      .insertInto('tenants')
      .values({
        id: 't',
        display_name: 'T',
        initial_domain: 't.test',
        created_at: '2026-11-01T00:00:00.000Z',
        authorization_policy: '{}',
        collaboration_policy: '{}',
      })
      .execute();
    transact = createTransact(database.db, database.engine);
  });
  afterAll(() => database.destroy());

  test('concurrent units each commit or fail alone (and on SQLite see the writes of the ones before them)', async () => {
    const outcomes = await Promise.allSettled([
      transact(async (trx) => (await blocked(trx, 'a@x.test'), 'a')),
      transact(async (trx) => {
        await blocked(trx, 'b@x.test');
        throw new Error('b fails after writing');
      }),
      // Same key as the first: a unique violation that must not undo 'a'.
      transact(async (trx) => (await blocked(trx, 'a@x.test'), 'a again')),
      transact(async (trx) => {
        const seen = await trx.selectFrom('blocked_invitees').select('email_lower').where('email_lower', '=', 'a@x.test').executeTakeFirst();
        await blocked(trx, 'c@x.test');
        return seen?.email_lower;
      }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[0] as PromiseFulfilledResult<string>).value).toBe('a');
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain('b fails after writing');
    // SQLite runs the units of one turn one after another in a shared transaction; PostgreSQL runs
    // them as concurrent transactions, so only there may a unit not see an earlier one's write.
    if (database.engine === 'sqlite') expect((outcomes[3] as PromiseFulfilledResult<string>).value).toBe('a@x.test');
    expect(await stored()).toEqual(['a@x.test', 'c@x.test']);
  });

  test('a unit answers only after its writes are visible to everyone', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        transact(async (trx) => {
          await blocked(trx, `n${String(i).padStart(3, '0')}@x.test`);
          return i;
        }).then(async (i) => {
          const row = await database.db
            .selectFrom('blocked_invitees')
            .select('email_lower')
            .where('email_lower', '=', `n${String(i).padStart(3, '0')}@x.test`)
            .executeTakeFirst();
          return row !== undefined;
        }),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
    expect((await stored()).filter((e) => e.startsWith('n'))).toHaveLength(100);
  });
});
