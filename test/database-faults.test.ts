import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { bootstrapOrganization } from '../src/tenancy/bootstrap.js';
import { createClientsService } from '../src/auth/clients.service.js';
import { systemClock } from '../src/clock.js';
import { isDatabaseUnavailable } from '../src/db/errors.js';
import { processStorage, testEngine } from './helpers/test-app.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

// A real `foyer serve --no-worker` and a real `foyer worker` reach PostgreSQL through a TCP proxy of
// the test's own, which can cut every connection; PostgreSQL itself ends their sessions with
// pg_terminate_backend. Only their sessions: they carry an application_name of this test's own.
// SQLite is a file inside the process, with no connection to lose: those tests run on PostgreSQL only.
const cli = path.resolve('src/cli/foyer.ts');
const CUT_MS = 15_000;
const SECRET = 'faults-process-test-secret-0123456789-abcdef';
const BULK_LINES = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  email: string;
  status: number;
  code?: string;
  retryAfter: string | null;
  startedDuringCut: boolean;
  answeredDuringCut: boolean;
}

describe.skipIf(testEngine !== 'postgres')('PostgreSQL faults: processes survive lost connections and an outage', () => {
  const appName = `foyer_faults_${randomBytes(4).toString('hex')}`;
  const children: { name: string; child: ChildProcess; output: string }[] = [];
  let storage: Awaited<ReturnType<typeof processStorage>>;
  let proxy: TcpProxy;
  let env: NodeJS.ProcessEnv;
  let database: DatabaseHandle;
  let admin: pg.Client;
  let url: string;
  let headers: Record<string, string>;

  /** Starts `foyer <args>` through the proxy and resolves once its output matches `ready`. */
  function start(args: string[], ready: RegExp): Promise<RegExpExecArray> {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const entry = { name: args[0]!, child, output: '' };
    children.push(entry);
    return new Promise((resolve, reject) => {
      const onData = (c: Buffer) => {
        entry.output += c.toString();
        const m = ready.exec(entry.output);
        if (m) resolve(m);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`foyer ${args.join(' ')} exited (${code}): ${entry.output}`)));
    });
  }

  /** Fails with the process's output when a Foyer process has exited. */
  function expectAlive() {
    for (const { name, child, output } of children) if (child.exitCode !== null || child.signalCode !== null) throw new Error(`foyer ${name} died:\n${output}`);
  }

  /**
   * Ends every PostgreSQL session of the two processes from PostgreSQL's side; answers how many there
   * were. With `waitForExit`, returns once they are gone, so the processes have been told.
   */
  async function terminateSessions(waitForExit = false): Promise<number> {
    const { rows } = await admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [appName]);
    const pids = rows.map((r) => r.pid);
    await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [pids]);
    for (let i = 0; waitForExit && i < 250; i++) {
      const left = await admin.query('select 1 from pg_stat_activity where pid = any($1::int[])', [pids]);
      if (left.rowCount === 0) break;
      await sleep(20);
    }
    return pids.length;
  }

  /** Invites a new address after another through the API from `writers` callers until `stop()`; one outcome per request. */
  async function inviteUntil(stop: () => boolean, prefix: string, writers = 4): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    let n = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (!stop()) {
          const email = `${prefix}-${n++}@load.test`;
          const startedDuringCut = proxy.isCut;
          const res = await fetch(`${url}/v1.0/invitations`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ invitedUserEmailAddress: email, inviteRedirectUrl: 'https://apps.contoso.test', sendInvitationMessage: true }),
          }).catch(() => null);
          // No answer at all: the server is gone (the checks report it).
          if (!res) return void outcomes.push({ email, status: 0, retryAfter: null, startedDuringCut, answeredDuringCut: proxy.isCut });
          const body = (await res.json()) as { error?: { code: string } };
          outcomes.push({
            email,
            status: res.status,
            code: body.error?.code,
            retryAfter: res.headers.get('retry-after'),
            startedDuringCut,
            answeredDuringCut: proxy.isCut,
          });
          if (res.status !== 201) await sleep(100);
        }
      }),
    );
    return outcomes;
  }

  /** Every acknowledged invitation is stored exactly once, every other answer is a 503 Graph error and stored at most once. */
  async function expectEachAcknowledgedOnce(outcomes: Outcome[]) {
    const refused = outcomes.filter((o) => o.status !== 201);
    expect(refused.filter((o) => o.status !== 503 || o.code !== 'Service_ServiceUnavailable' || !o.retryAfter)).toEqual([]);
    const counts = new Map(
      (
        await database.db
          .selectFrom('users')
          .innerJoin('invitations', 'invitations.user_id', 'users.id')
          .select(['users.mail_lower', (eb) => eb.fn.countAll<string>().as('n')])
          .where(
            'users.mail_lower',
            'in',
            outcomes.map((o) => o.email),
          )
          .groupBy('users.mail_lower')
          .execute()
      ).map((r) => [r.mail_lower, Number(r.n)]),
    );
    expect(outcomes.filter((o) => o.status === 201 && counts.get(o.email) !== 1)).toEqual([]);
    expect(refused.filter((o) => (counts.get(o.email) ?? 0) > 1)).toEqual([]);
  }

  /** Waits until no invitation email is left to send, then checks each was delivered and recorded once. */
  async function expectMailDeliveredOnce() {
    const pending = () =>
      database.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('type', 'in', ['mail.send', 'bulk.invite'])
        .where('status', '!=', 'done')
        .executeTakeFirstOrThrow();
    for (let i = 0; i < 450 && Number((await pending()).n) > 0; i++) await sleep(100);
    const mails = await database.db
      .selectFrom('mail_messages as m')
      .innerJoin('invitations as i', 'i.id', 'm.invitation_id')
      .select(['m.id', 'm.status', 'm.attempts', sql<string>`(select count(*) from audit_logs a where a.correlation_id = 'mail-' || m.id)`.as('entries')])
      .execute();
    const invitations = await database.db
      .selectFrom('invitations')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(mails.length).toBe(Number(invitations.n));
    expect(mails.filter((m) => m.status !== 'sent' || Number(m.attempts) !== 1 || Number(m.entries) !== 1)).toEqual([]);
    expect(Number((await pending()).n)).toBe(0);
  }

  const get = (p: string) => fetch(`${url}${p}`, { headers });
  /** `/readyz` as a load balancer asks it, without credentials. */
  const readyz = () => fetch(`${url}/readyz`);

  beforeAll(async () => {
    storage = await processStorage('faults');
    proxy = await startTcpProxy(storage.databaseUrl);
    const proxied = new URL(proxy.url);
    proxied.searchParams.set('application_name', appName);
    env = {
      ...process.env,
      FOYER_DATA_DIR: storage.dataDir,
      FOYER_SECRET: SECRET,
      FOYER_INVITE_RATE_PER_MINUTE: '0',
      // A bulk upload's emails are spread over the outage: two a second.
      FOYER_MAIL_RATE: '2',
      LOG_LEVEL: 'warn',
      PORT: '0',
      FOYER_HOST: '127.0.0.1',
      DATABASE_URL: proxied.toString(),
    };
    // The schema, the organization and an API client, made here; the processes find them at start.
    database = openDatabase({ databaseUrl: storage.databaseUrl, dataDir: storage.dataDir, pgSchema: storage.pgSchema });
    await migrateToLatest(database.db);
    const { tenant } = await bootstrapOrganization(
      database.db,
      { name: 'Contoso', domain: 'contoso.test', adminEmail: null, adminPassword: 'Faults-Admin-Passw0rd' },
      systemClock,
    );
    const client = await createClientsService({ db: database.db, clock: systemClock, secret: SECRET, commandLine: true }).createClient(tenant.id, 'faults', [
      'User.Invite.All',
      'User.Read.All',
    ]);
    const [listening] = await Promise.all([start(['serve', '--no-worker'], /listening on \S+:(\d+)/), start(['worker'], /Foyer worker running/)]);
    url = `http://127.0.0.1:${listening[1]}`;
    const token = await fetch(`${url}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: '.default' }),
    });
    headers = { authorization: `Bearer ${((await token.json()) as { access_token: string }).access_token}` };
    admin = new pg.Client({ connectionString: process.env.FOYER_TEST_DATABASE_URL });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
    proxy?.close();
    await admin?.end();
    await database?.close();
    await storage?.destroy();
  });

  it('keeps serving when PostgreSQL ends its sessions, idle and under a stream of invitations; each acknowledged one is stored once', async () => {
    expect((await get('/v1.0/users?$top=1')).status).toBe(200);
    expect(await terminateSessions(true)).toBeGreaterThan(0);
    expectAlive();
    expect((await get('/v1.0/users?$top=1')).status).toBe(200);
    expect((await readyz()).status).toBe(200);

    let stop = false;
    const load = inviteUntil(() => stop, 'terminated');
    for (let i = 0; i < 4; i++) {
      await sleep(400);
      await terminateSessions();
    }
    await sleep(400);
    stop = true;
    const outcomes = await load;
    expect(outcomes.filter((o) => o.status === 201).length).toBeGreaterThan(0);
    expectAlive();
    await expectEachAcknowledgedOnce(outcomes);
    await expectMailDeliveredOnce();
    expectAlive();
  }, 60_000);

  it('answers 503 at once while PostgreSQL is unreachable for 15 s and recovers by itself: queued emails and new writes complete exactly once', async () => {
    // A bulk upload whose 30 emails fall due two a second, most of them during the outage.
    const csv = ['email,displayName,sendEmail', ...Array.from({ length: BULK_LINES }, (_, i) => `bulk${i}@outage.test,Bulk ${i},true`)].join('\n');
    const upload = await fetch(`${url}/v1.0/foyer/bulkInvitations?redirectUrl=${encodeURIComponent('https://apps.contoso.test')}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(upload.status).toBe(202);
    const { id } = (await upload.json()) as { id: string };
    for (let i = 0; i < 100; i++) {
      const state = (await (await get(`/v1.0/foyer/bulkInvitations/${id}`)).json()) as { status: string };
      if (state.status === 'completed') break;
      await sleep(100);
    }

    // The OpenID Connect provider is built (it reads its signing keys) before the outage.
    expect((await fetch(`${url}/.well-known/openid-configuration`)).status).toBe(200);
    let stop = false;
    const load = inviteUntil(() => stop, 'outage');
    await sleep(300);
    proxy.cut();
    const cutAt = Date.now();
    const unsent = await database.db
      .selectFrom('mail_messages')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '!=', 'sent')
      .executeTakeFirstOrThrow();
    expect(Number(unsent.n)).toBeGreaterThan(0);

    const ready = await readyz();
    expect([ready.status, await ready.json(), proxy.isCut]).toEqual([503, { status: 'unavailable', database: 'postgres' }, true]);
    const read = await get('/v1.0/users?$top=1');
    expect([read.status, ((await read.json()) as { error: { code: string } }).error.code, proxy.isCut]).toEqual([503, 'Service_ServiceUnavailable', true]);
    expect(read.headers.get('retry-after')).toMatch(/^\d+$/);
    // Both token endpoints answer in OAuth's shape: the API's (client credentials) and the OpenID Connect provider's.
    const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields) });
    const clientCredentials = await fetch(
      `${url}/oauth2/v2.0/token`,
      form({ grant_type: 'client_credentials', client_id: 'any', client_secret: 'any', scope: '.default' }),
    );
    const codeExchange = await fetch(
      `${url}/oidc/token`,
      form({ grant_type: 'authorization_code', code: 'any', redirect_uri: 'https://apps.contoso.test/', client_id: randomUUID(), client_secret: 'any' }),
    );
    for (const res of [clientCredentials, codeExchange]) {
      expect([res.status, ((await res.json()) as { error: string }).error, res.headers.get('retry-after')]).toEqual([503, 'temporarily_unavailable', '5']);
    }
    expectAlive();

    await sleep(CUT_MS - (Date.now() - cutAt));
    expectAlive();
    await proxy.restore();
    let readyAgain = 0;
    for (let i = 0; i < 100 && readyAgain !== 200; i++) {
      readyAgain = (await readyz()).status;
      if (readyAgain !== 200) await sleep(100);
    }
    expect(readyAgain).toBe(200);
    expect((await get('/v1.0/users?$top=1')).status).toBe(200);
    await sleep(1000);
    stop = true;
    const outcomes = await load;

    // Answered while the outage lasted, not held until it ended: every one a 503.
    const duringCut = outcomes.filter((o) => o.startedDuringCut && o.answeredDuringCut);
    expect(duringCut.length).toBeGreaterThan(0);
    expect(duringCut.filter((o) => o.status !== 503)).toEqual([]);
    expect(outcomes.filter((o) => !o.startedDuringCut && !o.answeredDuringCut && o.status === 201).length).toBeGreaterThan(0);
    await expectEachAcknowledgedOnce(outcomes);
    await expectMailDeliveredOnce();
    const bulk = await database.db
      .selectFrom('users')
      .select([(eb) => eb.fn.countAll<string>().as('n'), sql<string>`count(distinct mail_lower)`.as('distinct')])
      .where('source', '=', 'bulk')
      .executeTakeFirstOrThrow();
    expect([Number(bulk.n), Number(bulk.distinct)]).toEqual([BULK_LINES, BULK_LINES]);
    expectAlive();
  }, 120_000);
});

describe('isDatabaseUnavailable', () => {
  it('recognises a refused connection, and no error of the query itself', async () => {
    const closed = await startTcpProxy('postgres://postgres@127.0.0.1:1/none');
    closed.cut();
    const refused = await new pg.Client({ connectionString: closed.url }).connect().catch((error: unknown) => error);
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(isDatabaseUnavailable(new Error('Cannot read properties of undefined'))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });

  it.skipIf(testEngine !== 'postgres')('recognises a pool that had no connection free in time, and not a failed statement', async () => {
    const pool = new pg.Pool({ connectionString: process.env.FOYER_TEST_DATABASE_URL, max: 1, connectionTimeoutMillis: 50 });
    const held = await pool.connect();
    try {
      expect(isDatabaseUnavailable(await pool.query('select 1').catch((error: unknown) => error))).toBe(true);
      expect(isDatabaseUnavailable(await held.query('select nonsense from nowhere').catch((error: unknown) => error))).toBe(false);
    } finally {
      held.release();
      await pool.end();
    }
  });
});
