import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, ConfigError } from '../src/config.js';
import { buildApp } from '../src/app.js';
import { openDatabase } from '../src/db/database.js';
import { systemClock } from '../src/clock.js';
import { processStorage, testEngine } from './helpers/test-app.js';
import { queueMail } from '../src/mail/mail-queue.js';

const run = promisify(execFile);
const cli = path.resolve('src/cli/foyer.ts');
const secret = 'cli-test-secret-cli-test-secret-0123456789';

describe(`foyer CLI (${testEngine})`, () => {
  let env: NodeJS.ProcessEnv;
  let storage: Awaited<ReturnType<typeof processStorage>>;
  let dataDir: string;

  beforeAll(async () => {
    storage = await processStorage('cli');
    dataDir = storage.dataDir;
    env = { ...process.env, FOYER_DATA_DIR: dataDir, FOYER_SECRET: secret, FOYER_ADMIN_PASSWORD: 'Cli-Admin-Passw0rd', DATABASE_URL: storage.databaseUrl };
  });
  afterAll(() => storage.destroy());

  const foyer = (...args: string[]) => run(process.execPath, ['--import', 'tsx', cli, ...args], { env, timeout: 60_000 });
  const lastLine = (out: { stdout: string }) => out.stdout.trim().split('\n').pop()!;
  const jsonLines = (out: { stdout: string }) =>
    out.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  /** Foyer on the storage the commands use, as `foyer serve` would open it. */
  async function serverOnStorage() {
    const config = loadConfig(env);
    const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir });
    const tenant = await database.db.selectFrom('tenants').select('id').executeTakeFirstOrThrow();
    return { app: await buildApp({ config, database, clock: systemClock, tenantId: tenant.id, logger: false }), database };
  }

  it('keys rotate makes a new active signing key and keys list shows both', async () => {
    await foyer('migrate');
    const first = JSON.parse(lastLine(await foyer('keys', 'rotate'))) as { kid: string };
    const second = JSON.parse(lastLine(await foyer('keys', 'rotate'))) as { kid: string };
    const listed = (await foyer('keys', 'list')).stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { kid: string; active: boolean; retireDateTime: string | null });
    expect(listed.map((k) => k.kid)).toEqual([second.kid, first.kid]);
    expect(listed[0]).toMatchObject({ active: true, retireDateTime: null });
    expect(listed[1]!.active).toBe(false);
    expect(listed[1]!.retireDateTime).toBeTruthy();
  });

  it('migrate, then clients create prints a client whose token works against the API', async () => {
    expect((await foyer('migrate')).stdout).toContain('up to date');
    const { stdout } = await foyer('clients', 'create', '--name', 'Reporting', '--permissions', 'User.Read.All,AuditLog.Read.All');
    const client = JSON.parse(stdout.trim().split('\n').pop()!) as { clientId: string; clientSecret: string };
    expect(client.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.clientSecret.length).toBeGreaterThanOrEqual(40);

    const config = loadConfig(env);
    const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir });
    const tenant = await database.db.selectFrom('tenants').select('id').executeTakeFirstOrThrow();
    const app = await buildApp({ config, database, clock: systemClock, tenantId: tenant.id, logger: false });
    try {
      const tokenRes = await app.inject({
        method: 'POST',
        url: '/oauth2/v2.0/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          scope: '.default',
        }).toString(),
      });
      expect(tokenRes.statusCode).toBe(200);
      const users = await app.inject({ method: 'GET', url: '/v1.0/users', headers: { authorization: `Bearer ${tokenRes.json().access_token}` } });
      expect(users.statusCode).toBe(200);
      expect(users.json().value.map((u: { userPrincipalName: string }) => u.userPrincipalName)).toEqual(['admin@contoso.test']);
      // The secret is stored hashed, never as given.
      const stored = await database.db.selectFrom('api_clients').select('secret_hash').where('id', '=', client.clientId).executeTakeFirstOrThrow();
      expect(stored.secret_hash).not.toContain(client.clientSecret);
    } finally {
      await app.close();
      await database.close();
    }
  });

  it('clients list, disable, enable, rotate-secret and delete: each takes effect at once and is audited as the command line', async () => {
    const created = JSON.parse(lastLine(await foyer('clients', 'create', '--name', 'Lifecycle', '--permissions', 'User.Read.All'))) as {
      clientId: string;
      clientSecret: string;
    };
    const listed = jsonLines(await foyer('clients', 'list'));
    expect(listed).toContainEqual(
      expect.objectContaining({ id: created.clientId, displayName: 'Lifecycle', permissions: ['User.Read.All'], accountEnabled: true }),
    );
    expect(JSON.stringify(listed)).not.toContain(created.clientSecret);

    const { app, database } = await serverOnStorage();
    try {
      const tokenStatus = async (secret: string) =>
        (
          await app.inject({
            method: 'POST',
            url: '/oauth2/v2.0/token',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams({
              grant_type: 'client_credentials',
              client_id: created.clientId,
              client_secret: secret,
              scope: '.default',
            }).toString(),
          })
        ).statusCode;
      expect(await tokenStatus(created.clientSecret)).toBe(200);

      expect(JSON.parse(lastLine(await foyer('clients', 'disable', created.clientId)))).toMatchObject({ id: created.clientId, accountEnabled: false });
      expect(await tokenStatus(created.clientSecret)).toBe(401);
      expect(JSON.parse(lastLine(await foyer('clients', 'enable', created.clientId)))).toMatchObject({ accountEnabled: true });
      expect(await tokenStatus(created.clientSecret)).toBe(200);

      const rotated = JSON.parse(lastLine(await foyer('clients', 'rotate-secret', created.clientId))) as { clientId: string; clientSecret: string };
      expect(rotated.clientId).toBe(created.clientId);
      expect(rotated.clientSecret).not.toBe(created.clientSecret);
      expect(await tokenStatus(created.clientSecret)).toBe(401);
      expect(await tokenStatus(rotated.clientSecret)).toBe(200);

      expect(JSON.parse(lastLine(await foyer('clients', 'delete', created.clientId)))).toEqual({ id: created.clientId, deleted: true });
      expect(await tokenStatus(rotated.clientSecret)).toBe(401);
      expect(jsonLines(await foyer('clients', 'list')).map((c) => c.id)).not.toContain(created.clientId);
      await expect(foyer('clients', 'disable', created.clientId)).rejects.toMatchObject({
        stderr: expect.stringContaining(`'${created.clientId}' does not exist`),
      });

      const audits = await database.db
        .selectFrom('audit_log_targets as t')
        .innerJoin('audit_logs as a', 'a.id', 't.audit_id')
        .select(['a.activity_display_name', 'a.initiated_by'])
        .where('t.target_id', '=', created.clientId)
        .orderBy('a.activity_at')
        .orderBy('a.id')
        .execute();
      expect(audits.map((a) => a.activity_display_name)).toEqual([
        'Add service principal',
        'Update service principal',
        'Update service principal',
        'Add service principal credentials',
        'Delete service principal',
      ]);
      for (const a of audits) expect(JSON.parse(a.initiated_by)).toMatchObject({ app: { displayName: 'Foyer command line' } });
    } finally {
      await app.close();
      await database.close();
    }
  }, 90_000);

  it('invitations blocked list and remove', async () => {
    const config = loadConfig(env);
    const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir });
    const tenant = await database.db.selectFrom('tenants').select('id').executeTakeFirstOrThrow();
    await database.db
      .insertInto('blocked_invitees')
      .values([
        { tenant_id: tenant.id, email_lower: 'zoe@fabrikam.test', created_at: '2026-11-01T00:00:00.000Z' },
        { tenant_id: tenant.id, email_lower: 'adam@northwind.test', created_at: '2026-11-02T00:00:00.000Z' },
      ])
      .execute();
    await database.close();
    expect(jsonLines(await foyer('invitations', 'blocked', 'list'))).toEqual([
      { id: 'adam@northwind.test', emailAddress: 'adam@northwind.test', createdDateTime: '2026-11-02T00:00:00.000Z' },
      { id: 'zoe@fabrikam.test', emailAddress: 'zoe@fabrikam.test', createdDateTime: '2026-11-01T00:00:00.000Z' },
    ]);
    expect(JSON.parse(lastLine(await foyer('invitations', 'blocked', 'remove', 'Zoe@Fabrikam.test')))).toEqual({
      emailAddress: 'zoe@fabrikam.test',
      removed: true,
    });
    expect(jsonLines(await foyer('invitations', 'blocked', 'list')).map((b) => b.id)).toEqual(['adam@northwind.test']);
    await expect(foyer('invitations', 'blocked', 'remove', 'zoe@fabrikam.test')).rejects.toMatchObject({
      stderr: expect.stringContaining("'zoe@fabrikam.test' does not exist"),
    });
  }, 60_000);

  it('clients create refuses an unknown permission', async () => {
    await expect(foyer('clients', 'create', '--name', 'x', '--permissions', 'User.Read.All,Mail.Send')).rejects.toMatchObject({
      stderr: expect.stringContaining('Unknown permission(s): Mail.Send'),
    });
  });

  it('admin create, seed and users list', async () => {
    const admin = JSON.parse((await foyer('admin', 'create', '--email', 'second@contoso.test', '--name', 'Second Admin')).stdout.trim()) as {
      userPrincipalName: string;
      password: string;
    };
    expect(admin.userPrincipalName).toBe('second@contoso.test');
    expect(admin.password.length).toBeGreaterThanOrEqual(20);
    expect((await foyer('seed', '--users', '50', '--guests-ratio', '0.5')).stdout).toContain('Seeded 50 users');
    const guests = (await foyer('users', 'list', '--filter', "userType eq 'Guest'", '--top', '500')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(guests.length).toBeGreaterThan(10);
    expect(guests.every((g: { userType: string }) => g.userType === 'Guest')).toBe(true);
    const all = (await foyer('users', 'list', '--top', '500')).stdout.trim().split('\n');
    expect(all).toHaveLength(52);
    // mail list / show read the outbox.
    const config = loadConfig(env);
    const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir });
    const tenant = await database.db.selectFrom('tenants').select('id').executeTakeFirstOrThrow();
    const mailId = await queueMail(
      database.db,
      {
        tenantId: tenant.id,
        kind: 'notification',
        from: 'a@contoso.test',
        to: ['bo@fabrikam.test'],
        subject: 'Hello Bo',
        text: 'Line one\nLine two',
        html: '<p>x</p>',
      },
      new Date().toISOString(),
    );
    await database.close();
    const listed = (await foyer('mail', 'list')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(listed).toEqual([expect.objectContaining({ id: mailId, to: ['bo@fabrikam.test'], subject: 'Hello Bo', status: 'queued' })]);
    const shown = (await foyer('mail', 'show', mailId)).stdout;
    expect(shown).toContain('Subject: Hello Bo');
    expect(shown).toContain('Line one\nLine two');
    await expect(foyer('mail', 'show', '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ stderr: expect.stringContaining('No message') });
    await expect(foyer('users', 'list', '--filter', 'userType eq')).rejects.toMatchObject({ stderr: expect.stringContaining('Invalid filter clause') });
  }, 90_000); // several CLI processes, each migrating and hashing a password
});

describe('configuration', () => {
  it('reports every problem at once', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', FOYER_ORG_DOMAIN: 'not a domain', FOYER_SECRET: 'short', NODE_ENV: 'production' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'DATABASE_URL', 'FOYER_ORG_DOMAIN', 'FOYER_SECRET']) expect(problems).toContain(name);
    }
  });

  it('requires FOYER_SECRET in production and generates one otherwise', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', FOYER_DATA_DIR: '/nonexistent' })).toThrow(/FOYER_SECRET is required/);
    const dir = mkdtempSync(path.join(tmpdir(), 'foyer-cfg-'));
    const a = loadConfig({ FOYER_DATA_DIR: dir });
    const b = loadConfig({ FOYER_DATA_DIR: dir });
    expect(a.secret).toHaveLength(43);
    expect(b.secret).toBe(a.secret);
    rmSync(dir, { recursive: true, force: true });
  });
});
