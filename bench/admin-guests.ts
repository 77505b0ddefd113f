// `npm run bench -- admin-guests`: the admin center's Guest users page in Debian's Chromium
// against `foyer serve` on a directory of 1,000,000 users. Measures the time from navigation to
// the first rows, how smoothly the virtualized list scrolls (frame times while it pages through
// @odata.nextLink), and how long a search takes to answer after the last keystroke. Writes
// docs/benchmarks.md (section admin-guests).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import {
  createPgDatabase,
  load1,
  machineFacts,
  median,
  nodeArgs,
  repoRoot,
  runCommand,
  serverAddressEnv,
  settle,
  startServer,
  table,
  writeSection,
  type Server,
} from './harness.js';
import { buildAdminCenterIfStale } from '../e2e/global-setup.js';

type Engine = 'sqlite' | 'postgres';
const ADMIN_PASSWORD = 'Bench-Adm1n-Passw0rd!';

interface Result {
  engine: Engine;
  users: number;
  seedSeconds: number | null;
  guests: string;
  firstRows: number[];
  scroll: { seconds: number; frames: number; fps: number; p95: number; longFrames: number; rowsLoaded: number; pages: number };
  search: { term: string; ms: number; rows: number }[];
  load: number;
}

/** Waits until the guest table shows rows; returns ms since `since`. */
async function firstRowsAfter(page: Page, since: number): Promise<number> {
  await page.locator('tbody tr[data-id]').first().waitFor({ timeout: 60_000 });
  return performance.now() - since;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '1000000' },
      'guests-ratio': { type: 'string', default: '0.3' },
      engines: { type: 'string', default: 'sqlite' },
      runs: { type: 'string', default: '7' },
      'scroll-seconds': { type: 'string', default: '8' },
      // A data dir (SQLite) to seed once and reuse across runs; seeding 1,000,000 users takes minutes.
      'data-dir': { type: 'string' },
      settle: { type: 'string', default: '1.5' },
      'settle-max': { type: 'string', default: '300' },
      chromium: { type: 'string', default: process.env.FOYER_CHROMIUM ?? '/usr/bin/chromium' },
      'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      out: { type: 'string', default: path.join(repoRoot, 'docs', 'benchmarks.md') },
    },
  });
  const users = Number(values.users);
  const runs = Number(values.runs);
  const engines = values.engines.split(',').map((e) => e.trim()) as Engine[];
  const log = (m: string) => console.log(`[admin-guests] ${m}`);
  const startedAt = new Date();
  const command = `npm run bench -- admin-guests${argv.length ? ' ' + argv.join(' ') : ''}`;
  const facts = await machineFacts(engines.includes('postgres') ? values['pg-url'] : null);
  buildAdminCenterIfStale();
  const browser = await chromium.launch({ executablePath: values.chromium, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  facts.Chromium = browser.version();
  log(`${command}; load average at start ${load1().toFixed(2)}`);
  const results: Result[] = [];

  try {
    for (const engine of engines) {
      const keep = engine === 'sqlite' && values['data-dir'] ? path.resolve(values['data-dir']) : null;
      const dataDir = keep ?? mkdtempSync(path.join(tmpdir(), 'foyer-bench-'));
      if (keep) mkdirSync(keep, { recursive: true });
      const pgdb = engine === 'postgres' ? await createPgDatabase(values['pg-url'], `foyer_bench_${randomBytes(4).toString('hex')}`) : null;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        FOYER_DATA_DIR: dataDir,
        FOYER_SECRET: 'admin-guests-benchmark-secret-0123456789abcdef',
        FOYER_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOG_LEVEL: 'warn',
        FOYER_HOST: '127.0.0.1',
        NODE_ENV: 'production',
        ...(await serverAddressEnv()),
      };
      delete env.DATABASE_URL;
      delete env.SMTP_URL;
      if (pgdb) env.DATABASE_URL = pgdb.url;
      let server: Server | null = null;
      try {
        let seedSeconds: number | null = null;
        const seeded = keep && readdirSync(keep).some((f) => f.endsWith('.db') || f.endsWith('.sqlite')) && existsSync(path.join(keep, '.seeded'));
        if (!seeded) {
          log(`${engine}: seeding ${users.toLocaleString('en')} users`);
          const s = await runCommand(nodeArgs('src/cli/foyer.ts', ['seed', '--users', String(users), '--guests-ratio', values['guests-ratio']]), env);
          seedSeconds = s.seconds;
          log(`${engine}: seeded in ${s.seconds.toFixed(1)} s`);
          if (keep) (await import('node:fs')).writeFileSync(path.join(keep, '.seeded'), String(users));
        } else log(`${engine}: reusing the directory seeded in ${keep}`);
        server = await startServer(nodeArgs('src/cli/foyer.ts', ['serve', '--no-worker']), env, /listening on \S+:(\d+)/);

        const context = await browser.newContext({ baseURL: server.url, locale: 'en-US', viewport: { width: 1400, height: 900 } });
        const page = await context.newPage();
        await page.goto('/login');
        await page.getByLabel('Email or user name').fill('admin@contoso.test');
        await page.getByLabel('Password').fill(ADMIN_PASSWORD);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Home' }).waitFor({ timeout: 60_000 });
        // One untimed visit: the browser has the app's files cached afterwards, as an administrator's would.
        await page.goto('/users/guests');
        await firstRowsAfter(page, performance.now());
        const guests = (await page.getByTestId('guest-count').textContent({ timeout: 60_000 })) ?? '';

        const load = Number(values.settle) > 0 ? await settle(Number(values.settle), Number(values['settle-max']), log) : load1();
        const firstRows: number[] = [];
        for (let i = 0; i < runs; i++) {
          await page.goto('/');
          await page.getByRole('heading', { name: 'Home' }).waitFor();
          const t0 = performance.now();
          await page.goto('/users/guests', { waitUntil: 'commit' });
          firstRows.push(await firstRowsAfter(page, t0));
          log(`${engine}: first rows after ${firstRows[i]!.toFixed(0)} ms`);
        }

        // Scroll the list steadily (about 1,200 px a second) and record every frame the browser paints.
        // Passed as source text: the TypeScript loader would add helpers to named functions that the page does not have.
        const scrollScript = `(async (seconds) => {
          const scroller = document.querySelector('[data-testid="virtual-scroller"]');
          const frames = [];
          let pages = 0;
          const observer = new PerformanceObserver((list) => {
            for (const e of list.getEntries()) if (e.name.includes('/v1.0/users?')) pages++;
          });
          observer.observe({ type: 'resource', buffered: false });
          await new Promise((resolve) => {
            const start = performance.now();
            let last = start;
            const step = (now) => {
              frames.push(now - last);
              last = now;
              scroller.scrollTop += 20;
              if (now - start < seconds * 1000) requestAnimationFrame(step);
              else resolve();
            };
            requestAnimationFrame(step);
          });
          observer.disconnect();
          const sorted = frames.slice(1).sort((a, b) => a - b);
          const rows = Number(document.querySelector('table')?.getAttribute('aria-rowcount') ?? 0);
          const rendered = document.querySelectorAll('tbody tr[data-id]');
          const lastIndex = Number(rendered[rendered.length - 1]?.getAttribute('aria-rowindex') ?? 0) - 1;
          return {
            seconds,
            frames: sorted.length,
            fps: sorted.length / seconds,
            p95: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
            longFrames: sorted.filter((f) => f > 50).length,
            rowsLoaded: lastIndex,
            pages,
            total: rows,
          };
        })(${Number(values['scroll-seconds'])})`;
        const scroll = (await page.evaluate(scrollScript)) as Result['scroll'] & { total: number };
        log(
          `${engine}: scrolling ${scroll.fps.toFixed(0)} fps, p95 frame ${scroll.p95.toFixed(1)} ms, ${scroll.longFrames} frames over 50 ms, ${scroll.pages} pages fetched`,
        );

        // Search: type a name the way a person does, then time from the last key to the matching rows.
        const search: Result['search'] = [];
        const box = page.getByRole('searchbox', { name: 'Search guests by name or email' });
        for (const term of ['wa', 'jans', 'de v', 'sm', 'visser', '@wood', 'mul']) {
          await box.fill('');
          await page
            .getByTestId('guest-count')
            .filter({ hasText: guests.split(' ')[0]! })
            .waitFor({ timeout: 60_000 });
          // The answer to this search, not rows of the full list that happen to match already.
          const answered = page.waitForResponse(
            (r) => r.url().includes('/v1.0/users?') && decodeURIComponent(r.url().replace(/\+/g, ' ')).includes(`:${term.replace(/^@/, '')}"`),
            { timeout: 60_000 },
          );
          await box.pressSequentially(term, { delay: 60 });
          const t0 = performance.now();
          await answered;
          // Every row shows a name or address with a word starting with the term. (A function, not source text: the
          // page's CSP forbids eval. It names no inner functions, so the TypeScript loader adds no helpers to it.)
          await page.waitForFunction(
            (pattern: string) =>
              [...document.querySelectorAll('tbody tr[data-id]')].every((r) =>
                new RegExp(pattern).test(
                  [...r.querySelectorAll('td:nth-child(2), td:nth-child(3)')]
                    .map((c) => c.textContent)
                    .join(' ')
                    .toLowerCase(),
                ),
              ) && document.querySelectorAll('tbody tr[data-id]').length > 0,
            `(^|[\\s@._-])${term.replace(/^@/, '')}`,
            { timeout: 60_000, polling: 'raf' },
          );
          const ms = performance.now() - t0;
          const rows = await page.locator('tbody tr[data-id]').count();
          search.push({ term, ms, rows });
          log(`${engine}: search "${term}" answered ${ms.toFixed(0)} ms after the last key`);
        }
        await context.close();
        results.push({ engine, users, seedSeconds, guests, firstRows, scroll, search, load });
      } finally {
        await server?.stop();
        await pgdb?.drop();
        if (!keep) rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await browser.close();
  }

  const markdown = report(startedAt, command, facts, results);
  writeSection(values.out, 'admin-guests', markdown);
  console.log(`\n${markdown}\n`);
}

function report(startedAt: Date, command: string, facts: Record<string, string>, results: Result[]): string {
  const n = (v: number) => Math.round(v).toLocaleString('en');
  const rows = results.map((r) => {
    const searchMedian = median(r.search.map((s) => s.ms));
    const searchMax = Math.max(...r.search.map((s) => s.ms));
    return [
      r.engine,
      n(r.users),
      r.guests,
      `${n(median(r.firstRows))} (max ${n(Math.max(...r.firstRows))})`,
      `${r.scroll.fps.toFixed(0)} fps, p95 ${r.scroll.p95.toFixed(1)} ms, ${r.scroll.longFrames} > 50 ms`,
      `${n(r.scroll.rowsLoaded)} rows, ${r.scroll.pages} pages`,
      `${n(searchMedian)} (max ${n(searchMax)})`,
      r.load.toFixed(2),
    ];
  });
  const checks = results.flatMap((r) => {
    const first = median(r.firstRows);
    const search = median(r.search.map((s) => s.ms));
    return [
      [r.engine, 'first rows ≤ 1,000 ms after navigation (median)', `${n(first)} ms`, first <= 1000 ? 'met' : 'missed'],
      [r.engine, 'search answered ≤ 300 ms after the last keystroke (median)', `${n(search)} ms`, search <= 300 ? 'met' : 'missed'],
      [r.engine, 'scrolling: p95 frame ≤ 33 ms', `${r.scroll.p95.toFixed(1)} ms`, r.scroll.p95 <= 33 ? 'met' : 'missed'],
    ];
  });
  return [
    '## admin-guests',
    '',
    `Run ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} with \`${command}\`. Measured by the benchmark in Chromium through Playwright; nothing is edited by hand.`,
    '',
    ...Object.entries(facts).map(([k, v]) => `- ${k}: ${v}`),
    '- server: `foyer serve --no-worker` in its own process (TypeScript sources through tsx, NODE_ENV=production), the admin center as built by `npm run build`; the browser is Debian’s Chromium (headless) in the benchmark process, 1400×900, signed in as the Global Administrator',
    "- first rows: from `page.goto(/users/guests)` (app files in the browser cache, as on a second visit) to the first row of the table; each run starts from Home. The list asks for `$filter=userType eq 'Guest'`, `$orderby=displayName`, `$count=true`, `$top=100`",
    '- scrolling: the table scrolled 20 px per animation frame for the stated time; frame times from requestAnimationFrame, pages are the `@odata.nextLink` requests made meanwhile',
    '- search: each term typed with 60 ms between keys; the time runs from the last key until the server has answered that search and every row shown matches (it includes the 150 ms the box waits for typing to stop). Terms: ' +
      results[0]?.search.map((s) => `"${s.term}" ${n(s.ms)} ms`).join(', '),
    ...results.map(
      (r) =>
        `- ${r.engine}: seeding ${r.seedSeconds === null ? 'reused from an earlier run' : `${r.seedSeconds.toFixed(0)} s`}; first-row runs (ms): ${r.firstRows.map(n).join(', ')}`,
    ),
    '',
    table(['engine', 'users', 'guest count shown', 'first rows ms, median', 'scrolling', 'scrolled through', 'search ms, median', 'load avg at start'], rows),
    '',
    '### Targets',
    '',
    table(['engine', 'target', 'measured', ''], checks),
  ].join('\n');
}
