import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '../src/db/database.js';
import { processStorage, testEngine } from './helpers/test-app.js';

// Real processes: the server is killed in the middle of a bulk invitation and started again;
// the CLI uploads and waits, and exports. Runs on the engine of the suite.
const run = promisify(execFile);
const cli = path.resolve('src/cli/foyer.ts');
const LINES = 20_000;

describe(`bulk invitations across processes (${testEngine})`, () => {
  let storage: Awaited<ReturnType<typeof processStorage>>;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let database: DatabaseHandle;
  const servers: ChildProcess[] = [];

  const foyer = (...args: string[]) => run(process.execPath, ['--import', 'tsx', cli, ...args], { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });

  /** Starts `foyer serve` and answers its base URL once it listens. */
  function startServer(): Promise<{ url: string; child: ChildProcess }> {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve'], {
      env: { ...env, PORT: '0', FOYER_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    servers.push(child);
    return new Promise((resolve, reject) => {
      let out = '';
      const onData = (c: Buffer) => {
        out += c.toString();
        const m = /listening on \S+:(\d+)/.exec(out);
        if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, child });
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    });
  }

  beforeAll(async () => {
    storage = await processStorage('bulk');
    dataDir = storage.dataDir;
    env = {
      ...process.env,
      FOYER_DATA_DIR: dataDir,
      FOYER_SECRET: 'bulk-process-test-secret-0123456789-abcdef',
      FOYER_ADMIN_PASSWORD: 'Bulk-Admin-Passw0rd',
      FOYER_JOB_LOCK_SECONDS: '2',
      // Emails are spread over hours, so the worker spends the test on the bulk job, not on delivery.
      FOYER_MAIL_RATE: '1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: storage.databaseUrl,
    };
    await foyer('migrate');
    database = openDatabase({ databaseUrl: storage.databaseUrl || null, dataDir, pgSchema: storage.pgSchema });
  });
  afterAll(async () => {
    for (const s of servers) if (s.exitCode === null) s.kill('SIGKILL');
    await database?.close();
    await storage.destroy();
  });

  it('a server killed in the middle of a 20,000-line job finishes it after a restart: one outcome per line, no duplicate guests or emails', async () => {
    const { clientId, clientSecret } = JSON.parse(
      (await foyer('clients', 'create', '--name', 'bulk', '--permissions', 'User.Invite.All')).stdout.trim().split('\n').pop()!,
    ) as {
      clientId: string;
      clientSecret: string;
    };
    // Every 100th line is a duplicate of the line before and every 250th has no valid address.
    const lines = ['email,displayName,sendEmail'];
    for (let i = 0; i < LINES; i++)
      lines.push(i % 250 === 249 ? `broken-${i},Broken,true` : i % 100 === 99 ? lines[lines.length - 1]! : `crash${i}@partner${i % 7}.test,Guest ${i},true`);
    const expectedFailed = lines.slice(1).filter((l, i) => l.startsWith('broken') || (i > 0 && l === lines[i])).length;

    let server = await startServer();
    const token = (
      (await (
        await fetch(`${server.url}/oauth2/v2.0/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: '.default' }),
        })
      ).json()) as { access_token: string }
    ).access_token;
    const headers = { authorization: `Bearer ${token}` };
    const res = await fetch(`${server.url}/v1.0/foyer/bulkInvitations?redirectUrl=${encodeURIComponent('https://apps.contoso.test')}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/csv' },
      body: lines.join('\n'),
    });
    expect(res.status).toBe(202);
    const { id, total } = (await res.json()) as { id: string; total: number };
    expect(total).toBe(LINES);

    // Kill the server (no shutdown) once the job has invited some lines but not all.
    const progress = async () =>
      Number((await database.db.selectFrom('bulk_invitations').select('processed').where('id', '=', id).executeTakeFirstOrThrow()).processed);
    let atKill = 0;
    for (let i = 0; i < 1200 && atKill <= expectedFailed; i++) {
      await new Promise((r) => setTimeout(r, 50));
      atKill = await progress();
    }
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    atKill = await progress();
    expect(atKill).toBeGreaterThan(expectedFailed);
    expect(atKill).toBeLessThan(LINES);

    server = await startServer();
    let state: { status: string; processed: number; succeeded: number; failed: number; alreadyInvited: number } | undefined;
    for (let i = 0; i < 1200; i++) {
      state = (await (await fetch(`${server.url}/v1.0/foyer/bulkInvitations/${id}`, { headers })).json()) as typeof state;
      if (state!.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toMatchObject({ status: 'completed', processed: LINES, failed: expectedFailed, succeeded: LINES - expectedFailed, alreadyInvited: 0 });

    const db = database.db;
    const outcomes = await db
      .selectFrom('bulk_invitation_rows')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('bulk_id', '=', id)
      .groupBy('status')
      .execute();
    expect(Object.fromEntries(outcomes.map((o) => [o.status, Number(o.n)]))).toEqual({ succeeded: LINES - expectedFailed, failed: expectedFailed });
    const guests = await db
      .selectFrom('users')
      .select([(eb) => eb.fn.countAll<number>().as('n'), sql<number>`count(distinct mail_lower)`.as('distinct')])
      .where('source', '=', 'bulk')
      .executeTakeFirstOrThrow();
    expect(Number(guests.n)).toBe(LINES - expectedFailed);
    expect(Number(guests.distinct)).toBe(LINES - expectedFailed);
    const mails = await db
      .selectFrom('mail_messages')
      .select([(eb) => eb.fn.countAll<number>().as('n'), sql<number>`count(distinct invitation_id)`.as('distinct')])
      .executeTakeFirstOrThrow();
    expect(Number(mails.n)).toBe(LINES - expectedFailed);
    expect(Number(mails.distinct)).toBe(LINES - expectedFailed);
    const invitations = await db
      .selectFrom('invitations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(invitations.n)).toBe(LINES - expectedFailed);
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }, 240_000);

  it('foyer guests bulk-invite --wait invites a file and prints a summary; foyer guests export writes the guests as CSV', async () => {
    const file = path.join(dataDir, 'guests.csv');
    writeFileSync(
      file,
      'version:v1.0\nEmail [inviteeEmail],Redirect [inviteRedirectURL],Send [sendEmail]\ncli-one@cli.test,https://apps.contoso.test,false\ncli-two@cli.test,https://apps.contoso.test,false\nnot-an-address,https://apps.contoso.test,false\n',
    );
    const { stdout } = await foyer('guests', 'bulk-invite', file, '--wait');
    expect(stdout).toMatch(/Uploaded 3 lines as bulk invitation [0-9a-f-]{36} \(1 failed validation\)/);
    expect(stdout).toContain('Done: 2 invited, 0 already invited, 1 failed, 3 in all.');
    const exported = (await foyer('guests', 'export', '--filter', "startsWith(mail,'cli-')")).stdout.trim().split('\r\n');
    expect(exported[0]).toBe(
      'id,displayName,mail,userPrincipalName,externalUserState,externalUserStateChangeDateTime,createdDateTime,companyName,lastSignInDateTime',
    );
    expect(
      exported
        .slice(1)
        .map((l) => l.split(',')[2])
        .sort(),
    ).toEqual(['cli-one@cli.test', 'cli-two@cli.test']);
    await expect(foyer('guests', 'bulk-invite', path.join(dataDir, 'missing.csv'))).rejects.toThrow(/No such file/);
  }, 120_000);
});
