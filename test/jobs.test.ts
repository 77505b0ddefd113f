import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrateToLatest } from '../src/db/database.js';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { enqueueJob } from '../src/jobs/jobs.repository.js';
import { createWorker, type JobHandler } from '../src/jobs/worker.js';
import { signalJobsCommitted } from '../src/jobs/job-signals.js';
import { scheduleRecurringJobs, PURGE_DELETED_JOB, directoryJobHandlers } from '../src/jobs/directory-jobs.js';
import { createDeletedItemsService } from '../src/directory/deleted-items.service.js';
import { openTestDatabase, testClock, testEngine, createTestApp, call, createGuest } from './helpers/test-app.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

type Handle = Awaited<ReturnType<typeof openTestDatabase>>;

describe(`durable jobs (${testEngine})`, () => {
  let h: Handle;
  const clock = testClock();
  beforeAll(async () => {
    h = await openTestDatabase();
    await migrateToLatest(h.db);
  });
  afterAll(() => h.destroy());
  beforeEach(async () => {
    await h.db.deleteFrom('jobs').execute();
  });

  const worker = (handlers: Record<string, JobHandler>, db = h.db) => createWorker({ db, engine: h.engine, clock, handlers, batchSize: 5 });

  it('a job enqueued in a rolled-back transaction never exists', async () => {
    await h.db
      .transaction()
      .execute(async (trx) => {
        await enqueueJob(trx, { type: 'mail.send', payload: { to: 'a@b.test' }, runAt: clock.now().toISOString() }, clock.now().toISOString());
        throw new Error('the change failed');
      })
      .catch(() => {});
    const ran: unknown[] = [];
    expect(await worker({ 'mail.send': async (j) => void ran.push(j.payload) }).runDue()).toBe(0);
    expect(ran).toEqual([]);
  });

  it('a started worker runs jobs committed in its process at once, not at its next poll', async () => {
    const ran: string[] = [];
    const w = createWorker({ db: h.db, engine: h.engine, clock, handlers: { 'bulk.invite': async () => void ran.push('bulk') }, pollMs: 60_000 });
    w.start();
    try {
      // The first poll finds nothing; the next would come a minute later.
      await new Promise((r) => setTimeout(r, 200));
      const now = clock.now().toISOString();
      await enqueueJob(h.db, { type: 'bulk.invite', runAt: now }, now);
      signalJobsCommitted();
      for (let i = 0; i < 50 && ran.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(ran).toEqual(['bulk']);
    } finally {
      await w.stop();
    }
  });

  it('runs due jobs once, leaves future ones, and retries failures with backoff until they succeed', async () => {
    const now = clock.now().toISOString();
    await enqueueJob(h.db, { type: 'ok', payload: { n: 1 }, runAt: now }, now);
    await enqueueJob(h.db, { type: 'ok', payload: { n: 2 }, runAt: new Date(clock.now().getTime() + 60_000).toISOString() }, now);
    await enqueueJob(h.db, { type: 'flaky', runAt: now, maxAttempts: 5 }, now);
    const seen: number[] = [];
    let flakyCalls = 0;
    const w = worker({
      ok: async (j) => void seen.push((j.payload as { n: number }).n),
      flaky: async () => {
        flakyCalls++;
        if (flakyCalls < 3) throw new Error(`SMTP said no (${flakyCalls})`);
      },
    });
    await w.runDue();
    expect(seen).toEqual([1]);
    expect(flakyCalls).toBe(1);
    const failedOnce = await h.db.selectFrom('jobs').selectAll().where('type', '=', 'flaky').executeTakeFirstOrThrow();
    expect(failedOnce.status).toBe('queued');
    expect(failedOnce.last_error).toContain('SMTP said no (1)');
    expect(failedOnce.run_at > clock.now().toISOString()).toBe(true);

    // Nothing is retried before its backoff has passed.
    await w.runDue();
    expect(flakyCalls).toBe(1);
    for (let i = 0; i < 4; i++) {
      clock.advance(60 * 60_000);
      await w.runDue();
    }
    expect(flakyCalls).toBe(3);
    expect(seen).toEqual([1, 2]);
    const statuses = await h.db.selectFrom('jobs').select(['type', 'status', 'attempts']).orderBy('type').execute();
    expect(statuses.every((s) => s.status === 'done')).toBe(true);
    expect(statuses.find((s) => s.type === 'flaky')!.attempts).toBe(3);
  });

  it('marks a job failed after its last attempt and keeps the error', async () => {
    const now = clock.now().toISOString();
    await enqueueJob(h.db, { type: 'broken', runAt: now, maxAttempts: 2 }, now);
    const w = worker({ broken: async () => Promise.reject(new Error('permanent')) });
    for (let i = 0; i < 3; i++) {
      await w.runDue();
      clock.advance(60 * 60_000);
    }
    const job = await h.db.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(2);
    expect(job.last_error).toBe('permanent');
  });

  it('takes over a job whose worker died (lock expired) instead of losing it', async () => {
    const now = clock.now().toISOString();
    await enqueueJob(h.db, { type: 'ok', runAt: now }, now);
    // A worker claimed it and died: running, locked until a minute ago.
    await h.db
      .updateTable('jobs')
      .set({ status: 'running', locked_by: 'dead-worker', locked_until: new Date(clock.now().getTime() - 60_000).toISOString(), attempts: 1 })
      .execute();
    let ran = 0;
    await worker({ ok: async () => void ran++ }).runDue();
    expect(ran).toBe(1);
    expect((await h.db.selectFrom('jobs').select('status').executeTakeFirstOrThrow()).status).toBe('done');
  });

  it('several workers on one database never run the same job twice', async () => {
    // Each worker gets its own connection pool (on PostgreSQL), as separate processes would.
    const others = await Promise.all([1, 2, 3].map(() => (testEngine === 'postgres' ? openTestDatabaseSameSchema(h) : Promise.resolve(null))));
    const now = clock.now().toISOString();
    const total = 200;
    for (let i = 0; i < total; i += 50)
      await h.db
        .insertInto('jobs')
        .values(
          Array.from({ length: 50 }, (_, k) => ({
            id: `00000000-0000-4000-8000-${String(i + k).padStart(12, '0')}`,
            tenant_id: null,
            type: 'count',
            payload: JSON.stringify({ n: i + k }),
            status: 'queued' as const,
            attempts: 0,
            max_attempts: 3,
            run_at: now,
            locked_until: null,
            locked_by: null,
            last_error: null,
            singleton_key: null,
            created_at: now,
            completed_at: null,
          })),
        )
        .execute();
    const runs = new Map<number, number>();
    const handler: JobHandler = async (j) => {
      const n = (j.payload as { n: number }).n;
      runs.set(n, (runs.get(n) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 1));
    };
    const workers = [h.db, ...others.map((o) => o?.db ?? h.db)].map((db) => worker({ count: handler }, db));
    await Promise.all(workers.map((w) => w.runDue()));
    await Promise.all(others.map((o) => o?.close()));
    expect(runs.size).toBe(total);
    expect([...runs.values()].every((c) => c === 1)).toBe(true);
  });

  // SQLite is a file inside the process, with no connection to lose.
  it.skipIf(testEngine !== 'postgres')(
    'when the database goes away in the middle of a poll, its claims are handed back once it answers: the interrupted job later, the others at once',
    async () => {
      const proxy = await startTcpProxy(process.env.FOYER_TEST_DATABASE_URL!);
      const viaProxy = await openTestDatabaseSameSchema(h, proxy.url);
      try {
        for (const n of [1, 2, 3]) {
          const runAt = new Date(clock.now().getTime() - (4 - n) * 1000).toISOString();
          await enqueueJob(h.db, { type: 'step', payload: { n }, runAt }, runAt);
        }
        const runs: { n: number; attempt: number }[] = [];
        const w = worker(
          {
            step: async (j) => {
              runs.push({ n: (j.payload as { n: number }).n, attempt: j.attempt });
              // The first job loses the database in the middle of its work; so does the worker.
              if (runs.length === 1) {
                proxy.cut();
                await sql`select 1`.execute(viaProxy.db);
              }
            },
          },
          viaProxy.db,
        );
        expect(isDatabaseUnavailable(await w.runDue().catch((error: unknown) => error))).toBe(true);
        await proxy.restore();
        // Not after their locks expire (five minutes here): at the next poll.
        expect(await w.runDue()).toBe(2);
        expect(runs).toEqual([
          { n: 1, attempt: 1 },
          { n: 2, attempt: 1 },
          { n: 3, attempt: 1 },
        ]);
        const rows = await h.db.selectFrom('jobs').selectAll().orderBy('run_at').execute();
        expect(rows.map((r) => [r.status, r.attempts])).toEqual([
          ['done', 1],
          ['done', 1],
          ['queued', 1],
        ]);
        expect(rows[2]!.last_error).toMatch(/^Interrupted: the database could not be reached/);
        expect(rows[2]!.run_at > clock.now().toISOString()).toBe(true);
      } finally {
        proxy.close();
        await viaProxy.close();
      }
    },
  );

  it('a recurring job exists once however many processes schedule it', async () => {
    await Promise.all([1, 2, 3, 4].map(() => scheduleRecurringJobs(h.db, clock)));
    const rows = await h.db.selectFrom('jobs').selectAll().where('type', '=', PURGE_DELETED_JOB).execute();
    expect(rows).toHaveLength(1);
  });
});

/** A second pool on the same PostgreSQL schema, standing in for another server process. */
async function openTestDatabaseSameSchema(h: Awaited<ReturnType<typeof openTestDatabase>>, databaseUrl = process.env.FOYER_TEST_DATABASE_URL!) {
  const { openDatabase } = await import('../src/db/database.js');
  const schema = (await h.db.selectNoFrom((eb) => eb.fn<string>('current_schema', []).as('s')).executeTakeFirstOrThrow()).s;
  return openDatabase({ databaseUrl, dataDir: '', pgSchema: schema, poolSize: 3 });
}

describe(`scheduled purge of deleted items (${testEngine})`, () => {
  it('runs as a recurring job and purges only what is past 30 days', async () => {
    const t = await createTestApp();
    try {
      let token = await t.clientToken(['User.ReadWrite.All']);
      const old = await createGuest(t, { token }, 'old@fabrikam.test');
      const recent = await createGuest(t, { token }, 'recent@fabrikam.test');
      expect((await call(t, { token }, { method: 'DELETE', url: `/v1.0/users/${old}` })).statusCode).toBe(204);
      t.clock.advance(2 * 86_400_000);
      token = await t.clientToken(['User.ReadWrite.All']); // access tokens live an hour
      expect((await call(t, { token }, { method: 'DELETE', url: `/v1.0/users/${recent}` })).statusCode).toBe(204);
      t.clock.advance(29 * 86_400_000); // old: 31 days deleted, recent: 29 days
      token = await t.clientToken(['User.ReadWrite.All']);

      const deleted = createDeletedItemsService({ db: t.database.db, engine: t.database.engine, clock: t.clock, secret: 'x' });
      await scheduleRecurringJobs(t.database.db, t.clock);
      const w = createWorker({ db: t.database.db, engine: t.database.engine, clock: t.clock, handlers: directoryJobHandlers(deleted, t.database.db, t.clock) });
      expect(await w.runDue()).toBe(1);

      expect((await call(t, { token }, { method: 'GET', url: `/v1.0/directory/deletedItems/${old}` })).statusCode).toBe(404);
      expect((await call(t, { token }, { method: 'GET', url: `/v1.0/directory/deletedItems/${recent}` })).statusCode).toBe(200);
      const job = await t.database.db.selectFrom('jobs').selectAll().where('type', '=', PURGE_DELETED_JOB).executeTakeFirstOrThrow();
      expect(job.status).toBe('queued'); // rescheduled in place for the next hour
      expect(job.run_at > t.clock.now().toISOString()).toBe(true);

      const audit = await call(
        t,
        { token: await t.clientToken(['AuditLog.Read.All']) },
        { method: 'GET', url: `/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Hard Delete user'` },
      );
      expect(audit.json().value.map((a: { targetResources: { id: string }[] }) => a.targetResources[0]!.id)).toEqual([old]);

      // Three more days: the other one goes too, by the same row rescheduled.
      t.clock.advance(3 * 86_400_000);
      token = await t.clientToken(['User.ReadWrite.All']);
      expect(await w.runDue()).toBe(1);
      expect((await call(t, { token }, { method: 'GET', url: `/v1.0/directory/deletedItems/${recent}` })).statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});
