// `npm run bench -- users-list`: the guest list at directory scale. Seeds a directory with the
// CLI, serves it from a child process, and measures with autocannon: the first page of guests, a
// deep page reached through @odata.nextLink, a display-name $search, the guest list with $count,
// and a bare Fastify route as the floor. On SQLite and PostgreSQL; the first page again on a
// small directory to show the cost does not grow with size. Writes docs/benchmarks.md.
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  clientToken,
  freshFoyer,
  load1,
  machineFacts,
  measure,
  nodeArgs,
  repoRoot,
  runCommand,
  settle,
  startServer,
  table,
  writeSection,
  type Measurement,
  type Server,
} from './harness.js';

type Engine = 'sqlite' | 'postgres';
type Scenario = 'bare' | 'first' | 'deep' | 'search' | 'count';

const scenarioNames: Record<Scenario, string> = {
  bare: 'bare Fastify route (floor)',
  first: "first page, `$filter=userType eq 'Guest'`",
  deep: 'deep page of the same list (via @odata.nextLink)',
  search: '`$search="displayName:wa"`',
  count: "`$filter=userType eq 'Guest'&$count=true`",
};

interface Row {
  engine: Engine;
  users: number;
  scenario: Scenario;
  m: Measurement;
}

interface SeedRow {
  engine: Engine;
  users: number;
  seconds: number;
  reported: string;
}

const guestFilter = `$filter=${encodeURIComponent("userType eq 'Guest'")}`;
const eventual = { consistencylevel: 'eventual' };

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '1000000' },
      small: { type: 'string', default: '10000' },
      'guests-ratio': { type: 'string', default: '0.3' },
      engines: { type: 'string', default: 'sqlite,postgres' },
      connections: { type: 'string', default: '16' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      'deep-pages': { type: 'string', default: '1000' },
      settle: { type: 'string', default: '1.0' },
      'settle-max': { type: 'string', default: '600' },
      'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      out: { type: 'string', default: path.join(repoRoot, 'docs', 'benchmarks.md') },
    },
  });
  const users = Number(values.users);
  const small = Number(values.small);
  const guestsRatio = values['guests-ratio'];
  const engines = values.engines.split(',').map((e) => e.trim()) as Engine[];
  for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`unknown engine '${e}'`);
  const load = { connections: Number(values.connections), duration: Number(values.duration), warmup: Number(values.warmup) };
  const deepPages = Number(values['deep-pages']);
  const settleBelow = Number(values.settle);
  const log = (m: string) => console.log(`[users-list] ${m}`);

  const startedAt = new Date();
  const command = `npm run bench -- users-list${argv.length ? ' ' + argv.join(' ') : ''}`;
  const facts = await machineFacts(engines.includes('postgres') ? values['pg-url'] : null);
  log(
    `${command}\n${Object.entries(facts)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n')}\n  load average at start: ${load1().toFixed(2)}`,
  );

  const rows: Row[] = [];
  const seeds: SeedRow[] = [];
  const blocks: string[] = [];
  let deepInfo = '';
  let guestCount = '';

  /** A fresh Foyer (data dir, database, seeded directory, API client) served by a child process. */
  async function withFoyer(engine: Engine, size: number, body: (server: Server, token: string) => Promise<void>): Promise<void> {
    const foyer = await freshFoyer(engine, values['pg-url']);
    const env = foyer.env;
    let server: Server | null = null;
    try {
      log(`${engine}: seeding ${size.toLocaleString('en')} users`);
      let lastProgress = 0;
      const seeded = await runCommand(nodeArgs('src/cli/foyer.ts', ['seed', '--users', String(size), '--guests-ratio', guestsRatio]), env, (c) => {
        if (Date.now() - lastProgress > 10_000 && c.includes('seeded')) {
          lastProgress = Date.now();
          log(`${engine}: ${c.trim().split('\r').pop()}`);
        }
      });
      const reported = /Seeded .*/.exec(seeded.stdout)?.[0] ?? '';
      seeds.push({ engine, users: size, seconds: seeded.seconds, reported });
      log(`${engine}: ${reported} (command: ${seeded.seconds.toFixed(1)} s)`);
      server = await startServer(nodeArgs('src/cli/foyer.ts', ['serve']), env, /listening on \S+:(\d+)/);
      const token = await clientToken(server.url, env, 'User.Read.All');
      await body(server, token);
    } finally {
      await server?.stop();
      await foyer.cleanup();
    }
  }

  async function get(url: string, headers: Record<string, string>): Promise<{ value: unknown[]; '@odata.nextLink'?: string; '@odata.count'?: number }> {
    const res = await fetch(url, { headers });
    if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { value: unknown[]; '@odata.nextLink'?: string; '@odata.count'?: number };
  }

  async function bench(engine: Engine, size: number, scenario: Scenario, url: string, headers: Record<string, string>): Promise<void> {
    log(`${engine} ${size}: ${scenario} ${url.replace(/^http:\/\/[^/]+/, '').slice(0, 120)}`);
    const m = await measure(url, headers, load);
    rows.push({ engine, users: size, scenario, m });
    log(`  p50 ${m.p50} ms, p99 ${m.p99} ms, ${m.rps.toFixed(0)} req/s (load at start ${m.load.toFixed(2)})`);
  }

  async function floor(engine: Engine, size: number): Promise<void> {
    const bare = await startServer(nodeArgs('bench/bare-server.ts', []), { ...process.env, LOG_LEVEL: 'warn', PORT: '0' }, /listening on \S+:(\d+)/);
    try {
      await bench(engine, size, 'bare', `${bare.url}/bare`, {});
    } finally {
      await bare.stop();
    }
  }

  for (const engine of engines) {
    await withFoyer(engine, users, async (server, token) => {
      const auth = { authorization: `Bearer ${token}` };
      const first = `${server.url}/v1.0/users?${guestFilter}`;
      const firstPage = await get(first, auth);
      if (firstPage.value.length === 0) throw new Error('the first page of guests is empty');

      // Walk the list the way a client does, then keep asking for the page we arrived at.
      let deep = first;
      let walked = 0;
      const walkStarted = performance.now();
      for (let page = await get(deep, auth); walked < deepPages && page['@odata.nextLink']; walked++) {
        deep = page['@odata.nextLink'];
        page = await get(deep, auth);
      }
      deepInfo = `page ${walked + 1} of the guest list (after ${(walked * 100).toLocaleString('en')} guests), reached by following @odata.nextLink ${walked} times (${((performance.now() - walkStarted) / 1000).toFixed(1)} s on ${engine})`;
      log(`${engine}: deep URL is ${deepInfo}`);

      const search = `${server.url}/v1.0/users?$search=${encodeURIComponent('"displayName:wa"')}`;
      if ((await get(search, { ...auth, ...eventual })).value.length === 0) throw new Error('$search found nobody');
      const count = `${server.url}/v1.0/users?${guestFilter}&$count=true`;
      const counted = await get(count, { ...auth, ...eventual });
      guestCount = `${counted['@odata.count']?.toLocaleString('en')} guests of ${users.toLocaleString('en')} users`;

      const seen = settleBelow > 0 ? await settle(settleBelow, Number(values['settle-max']), log) : load1();
      blocks.push(`${engine}, ${users.toLocaleString('en')} users: ${seen.toFixed(2)}`);
      await floor(engine, users);
      await bench(engine, users, 'first', first, auth);
      await bench(engine, users, 'deep', deep, auth);
      await bench(engine, users, 'search', search, { ...auth, ...eventual });
      await bench(engine, users, 'count', count, { ...auth, ...eventual });
    });
    if (small > 0)
      await withFoyer(engine, small, async (server, token) => {
        const seen = settleBelow > 0 ? await settle(settleBelow, Number(values['settle-max']), log) : load1();
        blocks.push(`${engine}, ${small.toLocaleString('en')} users: ${seen.toFixed(2)}`);
        await bench(engine, small, 'first', `${server.url}/v1.0/users?${guestFilter}`, { authorization: `Bearer ${token}` });
      });
  }

  const markdown = report({ startedAt, command, facts, load, rows, seeds, blocks, deepInfo, guestCount, users, small });
  writeSection(values.out, 'users-list', markdown);
  console.log(`\n${markdown}\n`);
  log(`written to ${path.relative(process.cwd(), values.out)}`);
}

function report(r: {
  startedAt: Date;
  command: string;
  facts: Record<string, string>;
  load: { connections: number; duration: number; warmup: number };
  rows: Row[];
  seeds: SeedRow[];
  blocks: string[];
  deepInfo: string;
  guestCount: string;
  users: number;
  small: number;
}): string {
  const n = (v: number) => v.toLocaleString('en');
  const find = (engine: Engine, users: number, scenario: Scenario) =>
    r.rows.find((x) => x.engine === engine && x.users === users && x.scenario === scenario)?.m;
  const results = r.rows.map((x) => {
    const bare = find(x.engine, r.users, 'bare');
    return [
      x.engine,
      n(x.users),
      scenarioNames[x.scenario],
      x.m.p50,
      x.m.p99,
      n(Math.round(x.m.rps)),
      x.scenario === 'bare' || !bare ? '' : `${((x.m.rps / bare.rps) * 100).toFixed(0)} %`,
      x.m.load.toFixed(2),
    ];
  });
  const checks: (string | number)[][] = [];
  for (const engine of new Set(r.rows.map((x) => x.engine))) {
    const bare = find(engine, r.users, 'bare');
    for (const s of ['first', 'deep', 'search'] as Scenario[]) {
      const m = find(engine, r.users, s);
      if (!m || !bare) continue;
      checks.push([engine, `${s}: p99 ≤ 20 ms`, `${m.p99} ms`, m.p99 <= 20 ? 'met' : 'missed']);
      checks.push([engine, `${s}: req/s ≥ ⅓ of bare (${n(Math.round(bare.rps / 3))})`, n(Math.round(m.rps)), m.rps >= bare.rps / 3 ? 'met' : 'missed']);
    }
    const big = find(engine, r.users, 'first');
    const little = find(engine, r.small, 'first');
    if (big && little && r.small !== r.users) {
      const ratio = little.rps / big.rps;
      checks.push([engine, `first page: req/s at ${n(r.small)} ÷ at ${n(r.users)} ≤ 1.5`, ratio.toFixed(2), ratio <= 1.5 ? 'met' : 'missed']);
    }
  }
  return [
    '## users-list',
    '',
    `Run ${r.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} with \`${r.command}\`. Figures below are copied by the benchmark from autocannon; nothing is edited by hand.`,
    '',
    ...Object.entries(r.facts).map(([k, v]) => `- ${k}: ${v}`),
    `- load: autocannon in the benchmark process, ${r.load.connections} connections, ${r.load.warmup} s warm-up then ${r.load.duration} s measured per row; the server is a separate child process (\`node ${nodeArgs(
      'src/cli/foyer.ts',
      ['serve'],
    )
      .map((a) => (path.isAbsolute(a) ? path.relative(repoRoot, a) : a))
      .join(' ')}\`: the build, with \`npm start\`'s flags; LOG_LEVEL=warn, NODE_ENV=production)`,
    '- authentication: a bearer token of a client made with `foyer clients create` (User.Read.All); page size is the default, 100',
    `- deep page: ${r.deepInfo}`,
    `- $count answered: ${r.guestCount}`,
    `- 1-minute load average when each block started (after waiting for it to drop below the settle level): ${r.blocks.join('; ')}`,
    '',
    '### Seeding (`foyer seed --users N --guests-ratio 0.3`)',
    '',
    table(
      ['engine', 'users', 'command wall time', "seed's own report"],
      r.seeds.map((s) => [s.engine, n(s.users), `${s.seconds.toFixed(1)} s`, s.reported]),
    ),
    '',
    '### Requests',
    '',
    'p50/p99 in whole milliseconds (autocannon resolution); "of bare" is req/s relative to the bare route measured just before, on the same engine block. "load" is the 1-minute load average when that measured run started (it includes the benchmark’s own previous rows).',
    '',
    table(['engine', 'users', 'request', 'p50 ms', 'p99 ms', 'req/s', 'of bare', 'load'], results),
    '',
    '### Targets',
    '',
    table(['engine', 'target', 'measured', ''], checks),
  ].join('\n');
}
