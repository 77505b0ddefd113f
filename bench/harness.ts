// Shared pieces of the benchmarks: child processes (the server never shares the event loop
// with the load generator), throw-away databases, autocannon runs, machine facts, and the
// section of docs/benchmarks.md that each benchmark owns.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import type { Database } from '../src/db/schema.js';
import { freePort } from '../test/helpers/oidc-rp.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Node flags `npm start` gives the server (package.json), so that benchmarks run it as shipped. */
const startFlags = (() => {
  const start = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  return /node ((?:--\S+ )*)dist\/src\/cli\/foyer\.js serve/.exec(start)?.[1]!.trim().split(' ').filter(Boolean) ?? [];
})();

/**
 * Node arguments that run FILE: Foyer's own sources as the built JavaScript that `npm start`
 * runs (bench/run.ts builds first; compiling TypeScript on the fly would be measured too), with
 * `npm start`'s flags for the server, the benchmark's helpers through tsx. With BENCH_CPU_PROF=DIR
 * the server writes a V8 CPU profile into DIR when it stops (for finding where the time goes).
 */
export function nodeArgs(file: string, args: string[]): string[] {
  if (file.startsWith('src/')) {
    const serverFlags =
      args[0] === 'serve' ? [...startFlags, ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])] : [];
    return [...serverFlags, path.join(repoRoot, 'dist', file.replace(/\.ts$/, '.js')), ...args];
  }
  return ['--import', 'tsx', path.join(repoRoot, file), ...args];
}

/** Runs a command to completion; rejects with its output when it fails. */
export function runCommand(args: string[], env: NodeJS.ProcessEnv, onStderr?: (chunk: string) => void): Promise<{ stdout: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      onStderr?.(c);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve({ stdout, seconds: (performance.now() - started) / 1000 });
      else reject(new Error(`${args.join(' ')} exited with ${code}\n${stdout}\n${stderr.slice(-4000)}`));
    });
  });
}

export interface Server {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a long-running child and waits until it prints a line with its port (`:PORT`). */
export function startServer(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let started = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const onData = (c: Buffer) => {
      output += c.toString('utf8');
      const m = ready.exec(output);
      if (!started && m) {
        started = true;
        resolve({
          url: `http://127.0.0.1:${m[1]}`,
          pid: child.pid!,
          async stop() {
            if (child.exitCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => {
      // Warnings and errors of the server are worth seeing while it runs.
      if (started) process.stderr.write(c);
      else onData(c);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!started) reject(new Error(`${args.join(' ')} exited with ${code} before it was ready:\n${output.slice(-4000)}`));
    });
  });
}

/** A PostgreSQL database created for this run; `drop()` removes it (and any connection to it). */
export async function createPgDatabase(adminUrl: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = async (statement: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(statement);
    } finally {
      await c.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists "${name}" with (force)`) };
}

export interface Measurement {
  p50: number;
  p99: number;
  /** Mean requests per second over the run. */
  rps: number;
  requests: number;
  /** 1-minute load average when the measured run started. */
  load: number;
}

/** One autocannon run; rejects when any response was not 2xx or a request failed. */
async function cannon(url: string, headers: Record<string, string>, connections: number, duration: number) {
  const result = await autocannon({ url, headers, connections, duration, pipelining: 1 });
  if (result.non2xx || result.errors || result.timeouts)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  return result;
}

/** Warms the target up (JIT, caches), then measures it. Latencies are autocannon's (whole ms). */
export async function measure(
  url: string,
  headers: Record<string, string>,
  opts: { connections: number; duration: number; warmup: number },
): Promise<Measurement> {
  if (opts.warmup > 0) await cannon(url, headers, opts.connections, opts.warmup);
  const load = loadavg()[0]!;
  const r = await cannon(url, headers, opts.connections, opts.duration);
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, requests: r.requests.total, load };
}

/** 1-minute load average. */
export const load1 = () => loadavg()[0]!;

/** Waits (up to `maxSeconds`) until the 1-minute load average is below `below`; returns what it saw last. */
export async function settle(below: number, maxSeconds: number, log: (m: string) => void): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  let l = load1();
  while (l >= below && Date.now() < deadline) {
    log(`load average ${l.toFixed(2)} ≥ ${below}; waiting`);
    await new Promise((r) => setTimeout(r, 15_000));
    l = load1();
  }
  return l;
}

/** Idle and total CPU ticks of the whole machine since boot (/proc/stat). */
function cpuTicks(): { idle: number; total: number } {
  const cells = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are the idle time.
  return { idle: cells[3]! + (cells[4] ?? 0), total: cells.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/**
 * Waits until the machine has been at least `idleShare` idle over a `windowMs` window (up to
 * `maxSeconds`), and answers the idle share of the last window. The load average moves too
 * slowly to see what a warm-up leaves running for a second or two: a log checkpoint, code
 * compiled in the background, a database's autovacuum.
 */
export async function quiet(windowMs = 500, idleShare = 0.9, maxSeconds = 30): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  for (;;) {
    const before = cpuTicks();
    await new Promise((r) => setTimeout(r, windowMs));
    const after = cpuTicks();
    const share = (after.idle - before.idle) / Math.max(1, after.total - before.total);
    if (share >= idleShare || Date.now() >= deadline) return share;
  }
}

/** The facts a reader needs to compare figures: cores, CPU, Node, and (when given) PostgreSQL. */
export async function machineFacts(pgUrl: string | null): Promise<Record<string, string>> {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const facts: Record<string, string> = {
    nproc: String((await import('node:os')).availableParallelism()),
    CPU: model,
    memory: `${Math.round((await import('node:os')).totalmem() / 2 ** 30)} GiB`,
    'Node.js': process.version,
  };
  if (pgUrl) {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    facts['PostgreSQL'] = ((await c.query('show server_version')).rows[0] as { server_version: string }).server_version;
    await c.end();
  }
  const sqlite = (await import('better-sqlite3')).default;
  const mem = new sqlite(':memory:');
  facts['SQLite'] = (mem.prepare('select sqlite_version() as v').get() as { v: string }).v;
  mem.close();
  return facts;
}

/** Replaces (or appends) the part of `file` between this benchmark's markers, leaving the rest as it is. */
export function writeSection(file: string, name: string, markdown: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures written by `npm run bench -- NAME`; each benchmark owns its section.\n';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

/** The middle value (the mean of the two middle values of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A markdown table. */
export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The port a server will listen on and its FOYER_BASE_URL (production requires one, and the links it writes must reach it). */
export async function serverAddressEnv(): Promise<{ PORT: string; FOYER_BASE_URL: string }> {
  const port = await freePort();
  return { PORT: String(port), FOYER_BASE_URL: `http://127.0.0.1:${port}` };
}

/**
 * A fresh Foyer for one measurement: a data folder, a database (SQLite in the folder, or a
 * throw-away PostgreSQL database) and the environment its processes run with.
 */
export async function freshFoyer(engine: 'sqlite' | 'postgres', pgUrl: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'foyer-bench-'));
  const pgdb = engine === 'postgres' ? await createPgDatabase(pgUrl, `foyer_bench_${randomBytes(4).toString('hex')}`) : null;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FOYER_DATA_DIR: dataDir,
    FOYER_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    FOYER_HOST: '127.0.0.1',
    NODE_ENV: 'production',
    ...extraEnv,
  };
  delete env.DATABASE_URL;
  delete env.SMTP_URL;
  Object.assign(env, await serverAddressEnv());
  if (pgdb) env.DATABASE_URL = pgdb.url;
  return {
    env,
    dataDir,
    pgdb,
    async cleanup() {
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An API client with `permissions` (made with the CLI) and its access token from the running server. */
export async function clientToken(serverUrl: string, env: NodeJS.ProcessEnv, permissions: string): Promise<string> {
  const client = await runCommand(nodeArgs('src/cli/foyer.ts', ['clients', 'create', '--name', 'bench', '--permissions', permissions]), env);
  const { clientId, clientSecret } = JSON.parse(client.stdout.trim().split('\n').pop()!) as { clientId: string; clientSecret: string };
  const res = await fetch(`${serverUrl}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: '.default' }),
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** What an invitation commits, as `countRows` counts it: the guest, the invitation, its audit entry and its email. */
export const invitedRows = {
  guests: ['users', ['user_type', 'Guest']],
  invitations: ['invitations'],
  audit: ['audit_logs', ['activity_display_name', 'Invite external user']],
  mail: ['mail_messages'],
} satisfies Record<string, [keyof Database, [string, string]?]>;

/**
 * Rows in a benchmark's database once its server has stopped: for each label, a table and an
 * optional `[column, value]` it must equal. A benchmark claims a figure only for work it finds committed.
 */
export async function countRows<K extends string>(
  foyer: { dataDir: string; pgdb: { url: string } | null },
  what: Record<K, [keyof Database, [string, string]?]>,
): Promise<Record<K, number>> {
  const database = openDatabase({ databaseUrl: foyer.pgdb?.url ?? null, dataDir: foyer.dataDir });
  try {
    const counts = {} as Record<K, number>;
    for (const [label, [table, where]] of Object.entries(what) as [K, [keyof Database, [string, string]?]][]) {
      let q = database.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n'));
      if (where) q = q.where(where[0] as never, '=', where[1] as never);
      counts[label] = Number((await q.executeTakeFirstOrThrow()).n);
    }
    return counts;
  } finally {
    await database.close();
  }
}

/** A section's first line: the command, the date and the machine's facts. */
export const runLine = (command: string, facts: Record<string, string>) =>
  `\`${command}\`, ${new Date().toISOString().slice(0, 10)}. ${Object.entries(facts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}.`;
