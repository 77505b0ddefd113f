// `npm run bench -- signin-flood`: what a flood of wrong-password sign-ins does to everyone else.
// p99 of a file download (a site's document library) and of a token-authenticated
// GET /v1.0/users/{id}, measured quiet and then while 64 clients keep wrong-password sign-ins in
// flight, side by side with the ratio. Password checks (argon2id) run on libuv's thread pool,
// which file reads share. On SQLite and PostgreSQL; writes docs/benchmarks.md.
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  clientToken,
  freshFoyer,
  load1,
  machineFacts,
  median,
  nodeArgs,
  quiet,
  repoRoot,
  runLine,
  settle,
  startServer,
  table,
  writeSection,
  type Server,
} from './harness.js';

type Engine = 'sqlite' | 'postgres';
type Target = 'download' | 'user';

const targetNames: Record<Target, string> = {
  download: 'file download (64 KiB, site library)',
  user: 'GET /v1.0/users/{id} (bearer token)',
};

/** What the flood got back, by HTTP status, and how many sign-ins it sent. */
type FloodCounts = Record<string, number>;

/**
 * `clients` loops, each keeping one wrong-password sign-in in flight on its own keep-alive
 * connection from its own loopback address (127.0.0.2 and up), so the flood looks like many
 * clients rather than one. Every attempt names a user that does not exist: each one costs a full
 * password check (against the dummy hash) and none of them locks an account.
 */
function startFlood(serverUrl: string, clients: number) {
  const { hostname, port } = new URL(serverUrl);
  const counts: FloodCounts = {};
  let running = true;
  const post = (agent: http.Agent, localAddress: string, body: string) =>
    new Promise<string>((resolve) => {
      const req = http.request(
        {
          host: hostname,
          port,
          method: 'POST',
          path: '/v1.0/foyer/session',
          agent,
          localAddress,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        },
      );
      req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      req.end(body);
    });
  const loops = Array.from({ length: clients }, async (_, i) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const localAddress = `127.0.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 1}`;
    for (let n = 0; running; n++) {
      const status = await post(agent, localAddress, JSON.stringify({ userName: `flood${i}.${n}@contoso.test`, password: 'Wrong-Passw0rd!' }));
      counts[status] = (counts[status] ?? 0) + 1;
    }
    agent.destroy();
  });
  return {
    counts,
    async stop(): Promise<FloodCounts> {
      running = false;
      await Promise.all(loops);
      return counts;
    },
  };
}

interface Sample {
  p50: number;
  p99: number;
  requests: number;
  rps: number;
}

/** The value below which `share` of the sorted values lie (nearest rank). */
const percentile = (sorted: number[], share: number) => sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0;

/**
 * `connections` keep-alive loops GET `url` for `seconds`; every request is timed to the last byte
 * (sub-millisecond), and those still in flight when the time is up are waited for and counted. A
 * load generator that drops them (autocannon does) would report a starved server as a fast one.
 */
async function sample(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<Sample> {
  const { hostname, port, pathname, search } = new URL(url);
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const get = (agent: http.Agent) =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request({ host: hostname, port, path: pathname + search, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
          latencies.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (performance.now() < deadline) await get(agent);
      agent.destroy();
    }),
  );
  const sorted = latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
    requests: sorted.length,
    rps: sorted.length / ((performance.now() - started) / 1000),
  };
}

/** A warm-up run, then the measured one. */
async function measure(url: string, headers: Record<string, string>, load: { connections: number; duration: number; warmup: number }): Promise<Sample> {
  if (load.warmup > 0) await sample(url, headers, load.connections, load.warmup);
  return sample(url, headers, load.connections, load.duration);
}

/** A site with one 64 KiB file, made through the API; answers the download URL. */
async function seedFile(serverUrl: string, token: string): Promise<string> {
  const api = async (method: string, url: string, body?: Buffer | object) => {
    const res = await fetch(`${serverUrl}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json' } : {}),
      },
      body: body ? (Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body)) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const site = await api('POST', '/v1.0/sites', { displayName: 'Flood bench' });
  const drive = await api('GET', `/v1.0/sites/${site.id}/drive`);
  const item = await api('PUT', `/v1.0/drives/${drive.id}/root:/report.bin:/content`, Buffer.alloc(64 * 1024, 7));
  return `${serverUrl}/v1.0/drives/${drive.id}/items/${item.id}/content`;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      engines: { type: 'string', default: 'sqlite,postgres' },
      flood: { type: 'string', default: '64' },
      connections: { type: 'string', default: '4' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      settle: { type: 'string', default: '1.0' },
      'settle-max': { type: 'string', default: '600' },
      'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      out: { type: 'string', default: path.join(repoRoot, 'docs', 'benchmarks.md') },
      section: { type: 'string', default: 'signin-flood' },
      title: { type: 'string', default: 'signin-flood' },
    },
  });
  const engines = values.engines.split(',').map((e) => e.trim()) as Engine[];
  for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`unknown engine '${e}'`);
  const floodClients = Number(values.flood);
  const load = { connections: Number(values.connections), duration: Number(values.duration), warmup: Number(values.warmup) };
  const rounds = Number(values.rounds);
  const log = (m: string) => console.log(`[signin-flood] ${m}`);
  const command = `npm run bench -- signin-flood${argv.length ? ' ' + argv.join(' ') : ''}`;
  const facts = await machineFacts(engines.includes('postgres') ? values['pg-url'] : null);
  const rows: (string | number)[][] = [];
  const floodRows: (string | number)[][] = [];

  for (const engine of engines) {
    const foyer = await freshFoyer(engine, values['pg-url']);
    let server: Server | null = null;
    try {
      server = await startServer(nodeArgs('src/cli/foyer.ts', ['serve', '--no-worker']), foyer.env, /listening on \S+:(\d+)/);
      const token = await clientToken(server.url, foyer.env, 'Sites.ReadWrite.All,User.Read.All');
      const auth = { authorization: `Bearer ${token}` };
      const urls: Record<Target, string> = {
        download: await seedFile(server.url, token),
        user: await (async () => {
          const res = await fetch(`${server!.url}/v1.0/users?$top=1&$select=id`, { headers: auth });
          const id = ((await res.json()) as { value: { id: string }[] }).value[0]!.id;
          return `${server!.url}/v1.0/users/${id}`;
        })(),
      };
      const loadAtStart = await settle(Number(values.settle), Number(values['settle-max']), log);
      const quietRuns: Record<Target, Sample[]> = { download: [], user: [] };
      const floodRuns: Record<Target, Sample[]> = { download: [], user: [] };
      const floodTotals: FloodCounts = {};
      let floodSeconds = 0;
      for (let round = 1; round <= rounds; round++) {
        for (const target of ['download', 'user'] as Target[]) {
          await quiet();
          const m = await measure(urls[target], auth, load);
          quietRuns[target].push(m);
          log(`${engine} round ${round} quiet ${target}: p50 ${m.p50} ms, p99 ${m.p99} ms, ${m.rps.toFixed(0)} req/s`);
        }
        const flood = startFlood(server.url, floodClients);
        const floodStarted = performance.now();
        // The flood fills the password-check queue before the measurement starts.
        await new Promise((r) => setTimeout(r, 2000));
        for (const target of ['download', 'user'] as Target[]) {
          const m = await measure(urls[target], auth, { ...load, warmup: 0 });
          floodRuns[target].push(m);
          log(`${engine} round ${round} flood ${target}: p50 ${m.p50} ms, p99 ${m.p99} ms, ${m.rps.toFixed(0)} req/s`);
        }
        const counts = await flood.stop();
        floodSeconds += (performance.now() - floodStarted) / 1000;
        for (const [status, n] of Object.entries(counts)) floodTotals[status] = (floodTotals[status] ?? 0) + n;
        log(`${engine} round ${round} flood answers: ${JSON.stringify(counts)}`);
      }
      // Medians of an even count are means of two: shown to a tenth of a millisecond, as measured.
      const med = (values: number[]) => Math.round(median(values) * 10) / 10;
      for (const target of ['download', 'user'] as Target[]) {
        const q = med(quietRuns[target].map((m) => m.p99));
        const f = med(floodRuns[target].map((m) => m.p99));
        const ratio = f / Math.max(q, 1);
        rows.push([
          engine,
          targetNames[target],
          med(quietRuns[target].map((m) => m.p50)),
          q,
          med(floodRuns[target].map((m) => m.p50)),
          f,
          `${ratio.toFixed(1)}×`,
          ratio <= 3 ? 'met' : 'missed',
          `${quietRuns[target].map((m) => m.p99).join(', ')} / ${floodRuns[target].map((m) => m.p99).join(', ')}`,
        ]);
      }
      const answered = Object.values(floodTotals).reduce((a, b) => a + b, 0);
      floodRows.push([
        engine,
        answered,
        (answered / floodSeconds).toFixed(0),
        Object.entries(floodTotals)
          .sort()
          .map(([s, n]) => `${s}: ${n}`)
          .join(', '),
        loadAtStart.toFixed(2),
      ]);
    } finally {
      await server?.stop();
      await foyer.cleanup();
    }
  }

  const markdown = [
    `## ${values.title}`,
    '',
    runLine(command, facts),
    '',
    `Each route measured with ${load.connections} connections for ${load.duration} s, first on a quiet server (after ${load.warmup} s of warm-up), then while ${floodClients} clients each keep one wrong-password sign-in (\`POST /v1.0/foyer/session\`) in flight, from their own loopback addresses and for user names that do not exist, so that every attempt costs a full argon2id check and none locks an account. Served by \`foyer serve --no-worker\` in its own process with \`npm start\`'s flags and libuv's default thread pool (4 threads). ${rounds} rounds; the table shows the medians, the last column every round's p99 (quiet / flood). Target: flood p99 no worse than 3× the quiet p99 (a quiet p99 under 1 ms counts as 1 ms). Latencies are timed by the benchmark to the last byte of each response, and requests still waiting when a run's time is up are waited for and counted.`,
    '',
    table(['engine', 'route', 'quiet p50 ms', 'quiet p99 ms', 'flood p50 ms', 'flood p99 ms', 'p99 ratio', '≤ 3×', 'p99 per round ms'], rows),
    '',
    'What the flood got back (all rounds):',
    '',
    table(['engine', 'sign-ins answered', 'per second', 'answers by status', 'load avg at start'], floodRows),
  ].join('\n');
  writeSection(values.out, values.section, markdown);
  console.log(`\n${markdown}\n`);
  log(`wrote ${values.out}; load average now ${load1().toFixed(2)}`);
}
