import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, bulkInvitationsFor, type AppDeps } from '../../src/app.js';
import { invitationMailContent } from '../../src/invitations/invitation-mail.js';
import { openDatabase, migrateToLatest, type DatabaseHandle } from '../../src/db/database.js';
import { bootstrapOrganization } from '../../src/tenancy/bootstrap.js';
import { createClientsService } from '../../src/auth/clients.service.js';
import { SESSION_COOKIE } from '../../src/auth/auth.service.js';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/db/schema.js';
import type { Tenant } from '../../src/tenancy/tenants.service.js';

/** The engine under test: PostgreSQL when FOYER_TEST_DATABASE_URL is set (the runner sets it), else SQLite. */
export const testEngine = process.env.FOYER_TEST_DATABASE_URL ? 'postgres' : 'sqlite';

/** A clock tests can move. */
export function testClock(start = new Date('2026-11-01T09:00:00.000Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
    set(date: Date) {
      now = date.getTime();
    },
  } satisfies Clock & Record<string, unknown>;
}
export type TestClock = ReturnType<typeof testClock>;

/**
 * A fresh database for one test file: a SQLite file in a temp folder, or its own PostgreSQL
 * schema inside the run's throw-away database.
 */
export async function openTestDatabase(): Promise<DatabaseHandle & { destroy(): Promise<void> }> {
  const url = process.env.FOYER_TEST_DATABASE_URL;
  if (url) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const handle = openDatabase({ databaseUrl: url, dataDir: '', pgSchema: schema, poolSize: 5 });
    return {
      ...handle,
      async destroy() {
        await handle.close();
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query(`drop schema ${schema} cascade`);
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'foyer-test-'));
  const handle = openDatabase({ databaseUrl: null, dataDir: dir });
  return {
    ...handle,
    async destroy() {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const ADMIN_PASSWORD = 'Adm1n-Passw0rd!';
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** Bulk invitation settings of test apps: small limits, so the limits are reachable in tests. */
export const testBulkConfig = { bulkMaxRows: 50_000, bulkMaxBytes: 8 * 1024 * 1024, mailRatePerSecond: 1000 };

export interface TestApp {
  app: FastifyInstance;
  database: DatabaseHandle;
  tenant: Tenant;
  clock: TestClock;
  /** The origin a browser on Foyer's pages sends: FOYER_BASE_URL's, or inject's default host. */
  origin: string;
  admin: { id: string; userPrincipalName: string; password: string };
  /** An API client token with these application permissions. */
  clientToken(permissions: string[]): Promise<string>;
  /** A signed-in session for a user with a password. */
  signIn(userName: string, password: string): Promise<Session>;
  close(): Promise<void>;
}

export interface Session {
  cookie: string;
  csrfToken: string;
  userId: string;
}

export type Caller = { token: string } | { session: Session } | null;

/**
 * The storage of Foyer processes a test starts (CLI commands, servers): a data folder, and on
 * PostgreSQL a schema of its own in the run's database, named in `DATABASE_URL`'s search path.
 */
export async function processStorage(
  prefix: string,
): Promise<{ dataDir: string; databaseUrl: string; pgSchema: string | undefined; destroy(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `foyer-${prefix}-`));
  const url = process.env.FOYER_TEST_DATABASE_URL;
  const schema = url ? `${prefix}_${randomBytes(5).toString('hex')}` : undefined;
  const admin = async (statement: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(statement);
    await c.end();
  };
  let databaseUrl = '';
  if (url && schema) {
    await admin(`create schema ${schema}`);
    const u = new URL(url);
    u.searchParams.set('options', `-c search_path=${schema},public`);
    databaseUrl = u.toString();
  }
  return {
    dataDir,
    databaseUrl,
    pgSchema: schema,
    async destroy() {
      rmSync(dataDir, { recursive: true, force: true });
      if (schema) await admin(`drop schema ${schema} cascade`);
    },
  };
}

/**
 * Builds Foyer on a fresh database with the organization and its first Global Administrator.
 * `inject()` connects from 127.0.0.1, and tests play a proxy on loopback (X-Forwarded-For names the
 * client) unless `trustProxy` says otherwise.
 */
export async function createTestApp(
  options: {
    baseUrl?: string | null;
    trustProxy?: Config['trustProxy'];
    invitesPerMinute?: number;
    oidcKeyCheckIntervalMs?: number;
    onRoute?: AppDeps['onRoute'];
    smtpUrl?: string;
  } = {},
): Promise<TestApp> {
  const database = await openTestDatabase();
  await migrateToLatest(database.db);
  const clock = testClock();
  const { tenant, admin } = await bootstrapOrganization(
    database.db,
    { name: 'Contoso', domain: 'contoso.test', adminEmail: 'admin@contoso.test', adminPassword: ADMIN_PASSWORD },
    clock,
  );
  const config = {
    baseUrl: options.baseUrl === undefined ? 'http://foyer.test' : options.baseUrl,
    trustProxy: options.trustProxy ?? ['loopback'],
    secret: TEST_SECRET,
    bodyLimit: 1024 * 1024,
    logLevel: 'silent',
    production: false,
    inviteTtlDays: 30,
    invitesPerMinute: options.invitesPerMinute ?? 1200,
    mailFrom: 'Contoso <no-reply@contoso.test>',
    smtpUrl: options.smtpUrl ?? null,
    ...testBulkConfig,
  };
  const app = await buildApp({
    config,
    database,
    clock,
    tenantId: tenant.id,
    logger: false,
    oidcKeyCheckIntervalMs: options.oidcKeyCheckIntervalMs,
    onRoute: options.onRoute,
  });
  const clients = createClientsService({ db: database.db, clock, secret: TEST_SECRET, commandLine: true });
  return {
    app,
    database,
    tenant,
    clock,
    origin: new URL(config.baseUrl ?? 'http://localhost').origin,
    admin: { id: admin!.userId, userPrincipalName: admin!.userPrincipalName, password: ADMIN_PASSWORD },
    async clientToken(permissions) {
      const { clientId, clientSecret } = await clients.createClient(tenant.id, `client ${permissions.join(' ')}`, permissions);
      const res = await app.inject({
        method: 'POST',
        url: '/oauth2/v2.0/token',
        payload: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
          scope: 'https://graph.microsoft.com/.default',
        }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
      return (res.json() as { access_token: string }).access_token;
    },
    async signIn(userName, password) {
      const res = await app.inject({ method: 'POST', url: '/v1.0/foyer/session', payload: { userName, password } });
      if (res.statusCode !== 200) throw new Error(`sign-in: ${res.statusCode} ${res.body}`);
      const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
      const body = res.json() as { csrfToken: string; user: { id: string } };
      return { cookie, csrfToken: body.csrfToken, userId: body.user.id };
    },
    async close() {
      await app.close();
      await database.destroy();
    },
  };
}

/** Sends a request as `caller` (bearer token, session with CSRF header, or anonymous). */
export function call(t: TestApp, caller: Caller, options: InjectOptions & { method: string; url: string }): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...(options.headers as Record<string, string>) };
  const cookies: Record<string, string> = {};
  if (caller && 'token' in caller) headers.authorization = `Bearer ${caller.token}`;
  if (caller && 'session' in caller) {
    cookies[SESSION_COOKIE] = caller.session.cookie;
    headers['x-csrf-token'] = caller.session.csrfToken;
  }
  return t.app.inject({ ...options, headers, cookies });
}

/** Creates a member with a password through the API and returns its id. */
export async function createMember(t: TestApp, caller: Caller, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const nick = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const res = await call(t, caller, {
    method: 'POST',
    url: '/v1.0/users',
    payload: {
      accountEnabled: true,
      displayName: name,
      mailNickname: nick,
      userPrincipalName: `${nick}@contoso.test`,
      mail: `${nick}@contoso.test`,
      passwordProfile: { password: 'Member-Passw0rd!' },
      ...extra,
    },
  });
  if (res.statusCode !== 201) throw new Error(`create member: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}

export const MEMBER_PASSWORD = 'Member-Passw0rd!';

/** Creates a guest (userType Guest, as an invitation would) and returns its id. */
export async function createGuest(t: TestApp, caller: Caller, email: string, name = email.split('@')[0]!): Promise<string> {
  const nick = `${email.replace('@', '_')}#EXT#`;
  const res = await call(t, caller, {
    method: 'POST',
    url: '/v1.0/users',
    payload: {
      accountEnabled: true,
      displayName: name,
      mailNickname: nick.replace('#', '').replace('#', ''),
      userPrincipalName: `${email.replace('@', '_')}#EXT#@contoso.test`,
      mail: email,
      userType: 'Guest',
      passwordProfile: { password: MEMBER_PASSWORD },
    },
  });
  if (res.statusCode !== 201) throw new Error(`create guest: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}

/** Graph list page as the tests read it. */
export interface ListPage {
  '@odata.context': string;
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value: Record<string, unknown>[];
}

/** Gets `url` and follows every @odata.nextLink (same headers), failing on anything but 200; returns the pages in order. */
export async function followPages(t: TestApp, caller: Caller, url: string, headers: Record<string, string> = {}): Promise<ListPage[]> {
  const pages: ListPage[] = [];
  let next: string | undefined = url;
  while (next) {
    const res = await call(t, caller, { method: 'GET', url: next.replace(/^https?:\/\/[^/]+/, ''), headers });
    if (res.statusCode !== 200) throw new Error(`GET ${next}: ${res.statusCode} ${res.body}`);
    const page = res.json() as ListPage;
    pages.push(page);
    next = page['@odata.nextLink'];
    if (pages.length > 1000) throw new Error('more than 1000 pages: the nextLink does not advance');
  }
  return pages;
}

/** Asserts a Graph error envelope with this status and code (and message, when given); returns the error object. */
export function expectGraphError(res: LightMyRequestResponse, status: number, code: string, message?: string | RegExp) {
  const body = res.json() as { error?: { code: string; message: string; innerError: Record<string, string> } };
  if (res.statusCode !== status || body.error?.code !== code) throw new Error(`expected ${status} ${code}, got ${res.statusCode} ${res.body}`);
  if (typeof message === 'string' && body.error.message !== message) throw new Error(`expected message "${message}", got "${body.error.message}"`);
  if (message instanceof RegExp && !message.test(body.error.message)) throw new Error(`expected message matching ${message}, got "${body.error.message}"`);
  return body.error;
}

/**
 * Runs every due job once, delivering mail through `transport` (the outbox when omitted);
 * `bulkSliceMs` sets how long a bulk invitation job runs before other jobs get a turn.
 */
export async function runJobs(t: TestApp, transport?: import('../../src/mail/transport.js').MailTransport, bulkSliceMs?: number): Promise<number> {
  const { createWorker } = await import('../../src/jobs/worker.js');
  const { mailJobHandlers } = await import('../../src/mail/mail-queue.js');
  const { createMailTransport } = await import('../../src/mail/transport.js');
  const worker = createWorker({
    db: t.database.db,
    engine: t.database.engine,
    clock: t.clock,
    handlers: {
      ...mailJobHandlers(t.database.db, transport ?? createMailTransport(null), t.clock, invitationMailContent(t.database.db, TEST_SECRET)),
      ...bulkInvitationsFor(t.database, t.clock, {
        secret: TEST_SECRET,
        inviteTtlDays: 30,
        mailFrom: 'Contoso <no-reply@contoso.test>',
        ...testBulkConfig,
        bulkSliceMs,
      }).handlers,
    },
  });
  return worker.runDue();
}

/** The first Global Administrator's session per test app, for reading the outbox (signed in again when it has ended). */
const outboxReaders = new WeakMap<TestApp, Session>();

/** Reads outbox messages to an address, newest first, through the API as the signed-in Global Administrator (nobody else may). */
export async function outboxFor(
  t: TestApp,
  address: string,
): Promise<{ id: string; subject: string; text: string; html: string; to: string[]; status: string }[]> {
  const read = async (fresh: boolean) => {
    let session = outboxReaders.get(t);
    if (!session || fresh) outboxReaders.set(t, (session = await t.signIn(t.admin.userPrincipalName, t.admin.password)));
    return call(t, { session }, { method: 'GET', url: '/v1.0/foyer/outbox?$top=999' });
  };
  let res = await read(false);
  if (res.statusCode === 401) res = await read(true);
  if (res.statusCode !== 200) throw new Error(`outbox: ${res.statusCode} ${res.body}`);
  return (res.json().value as { to: string[] }[]).filter((m) => m.to.includes(address)) as never;
}

/** How many rows `table` holds (of those matching `where`, a column and the value it must equal). */
export async function rowsIn(t: TestApp, table: keyof Database, where?: [string, string]): Promise<number> {
  let query = t.database.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n'));
  if (where) query = query.where(where[0] as never, '=', where[1] as never);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** The first link in a text that starts with `prefix`. */
export const linkIn = (text: string, prefix: string): string => {
  const m = new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\s"<]*`).exec(text);
  if (!m) throw new Error(`no link starting with ${prefix} in: ${text}`);
  return m[0];
};
