#!/usr/bin/env node
// The one test command: every test on SQLite and on a real PostgreSQL, then one summary line
// "N passed, N failed". It starts a stopped local PostgreSQL, installs it (and Debian's
// chromium for browser tests) when missing and running as root, uses a throw-away database
// per run, and in CI (CI=true) fails when PostgreSQL cannot be had.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const isRoot = process.getuid?.() === 0;
const adminUrl = process.env.FOYER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const extraArgs = process.argv.slice(2);

const log = (msg) => console.log(`[test:all] ${msg}`);
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function aptInstall(packages) {
  if (!isRoot || !have('apt-get')) return false;
  log(`installing ${packages.join(' ')} from Debian's packages`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  return (
    spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0
  );
}

async function canConnect(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function startLocalPostgres() {
  if (!have('pg_ctlcluster') || !existsSync('/etc/postgresql')) return false;
  for (const version of readdirSync('/etc/postgresql')) {
    log(`starting the local PostgreSQL ${version} cluster`);
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
  }
  return true;
}

async function findPostgres() {
  if (await canConnect(adminUrl)) return true;
  if (!startLocalPostgres() && aptInstall(['postgresql'])) startLocalPostgres();
  for (let i = 0; i < 20; i++) {
    if (await canConnect(adminUrl)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Debian packages the suites use: chromium (browser tests), openssl (the Graph SDK test's TLS certificate). */
function ensureTools() {
  if (!existsSync('/usr/bin/chromium') && !aptInstall(['chromium'])) log('chromium is missing and cannot be installed here; browser tests will fail');
  if (!have('openssl') && !aptInstall(['openssl'])) log('openssl is missing and cannot be installed here; the Graph SDK test will fail');
}

/** Runs vitest once and returns its counts from the JSON report. */
function runSuite(label, env) {
  const dir = mkdtempSync(path.join(tmpdir(), 'foyer-vitest-'));
  const report = path.join(dir, 'report.json');
  log(`running the suite on ${label}`);
  const result = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extraArgs], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed = json.numPassedTests;
    failed = json.numFailedTests + (json.numFailedTestSuites ?? 0);
    skipped = json.numPendingTests + (json.numTodoTests ?? 0);
  }
  if (result.status !== 0 && failed === 0) failed = 1; // the runner itself failed
  rmSync(dir, { recursive: true, force: true });
  log(`${label}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return { passed, failed, skipped };
}

ensureTools();
const totals = { passed: 0, failed: 0, skipped: 0 };
const add = (r) => Object.keys(totals).forEach((k) => (totals[k] += r[k]));

add(runSuite('SQLite', { FOYER_TEST_DATABASE_URL: '' }));

if (await findPostgres()) {
  const dbName = `foyer_test_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  try {
    add(runSuite('PostgreSQL', { FOYER_TEST_DATABASE_URL: url.toString() }));
  } finally {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await cleanup.end();
  }
} else if (ci) {
  log(`PostgreSQL is required in CI but none answers at ${adminUrl} and none could be started or installed`);
  totals.failed += 1;
} else {
  log(`WARNING: no PostgreSQL at ${adminUrl} (set FOYER_TEST_PG_URL); the PostgreSQL suite did NOT run`);
}

// Tests for one engine only (SQLite's storage and log) are skipped on the other; said here, so
// that the last line stays exactly "N passed, N failed".
if (totals.skipped) log(`${totals.skipped} skipped (engine-specific)`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 ? 1 : 0);
