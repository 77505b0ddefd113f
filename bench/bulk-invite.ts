// `npm run bench -- bulk-invite`: generated files of 10,000 and 100,000 lines (Entra's template),
// uploaded to `foyer serve` (worker in the process, as by default) on SQLite and PostgreSQL.
// Measures the time from the start of the upload until the job is completed (every guest,
// invitation, audit entry and queued email committed, counted afterwards) and the server's peak
// resident memory (VmHWM).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  clientToken,
  countRows,
  freshFoyer,
  load1,
  machineFacts,
  nodeArgs,
  repoRoot,
  runLine,
  settle,
  startServer,
  table,
  writeSection,
  type Server,
} from './harness.js';

type Engine = 'sqlite' | 'postgres';

function entraFile(lines: number, tag: string): string {
  const out = [
    'version:v1.0',
    'Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody],Name of invitee [inviteeName]',
    'Example: someone@partner.test,https://myapps.example.test,TRUE,Welcome!,Someone',
  ];
  for (let i = 0; i < lines; i++) out.push(`guest${i}.${tag}@partner${i % 500}.test,https://apps.contoso.test,TRUE,Welcome to the programme,Guest ${i} ${tag}`);
  return out.join('\r\n') + '\r\n';
}

const peakRssMb = (pid: number) => Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024);

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      engines: { type: 'string', default: 'sqlite,postgres' },
      sizes: { type: 'string', default: '10000,100000' },
      settle: { type: 'string', default: '1.0' },
      'settle-max': { type: 'string', default: '600' },
      'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      out: { type: 'string', default: path.join(repoRoot, 'docs', 'benchmarks.md') },
    },
  });
  const engines = values.engines.split(',').map((e) => e.trim()) as Engine[];
  const sizes = values.sizes.split(',').map(Number);
  const log = (m: string) => console.log(`[bulk-invite] ${m}`);
  const command = `npm run bench -- bulk-invite${argv.length ? ' ' + argv.join(' ') : ''}`;
  const facts = await machineFacts(engines.includes('postgres') ? values['pg-url'] : null);
  const rows: (string | number)[][] = [];

  for (const engine of engines) {
    for (const size of sizes) {
      const foyer = await freshFoyer(engine, values['pg-url']);
      let server: Server | null = null;
      try {
        server = await startServer(nodeArgs('src/cli/foyer.ts', ['serve']), foyer.env, /listening on \S+:(\d+)/);
        const headers = { authorization: `Bearer ${await clientToken(server.url, foyer.env, 'User.Invite.All')}` };
        const file = entraFile(size, `${engine}${size}`);
        const loadAtStart = await settle(Number(values.settle), Number(values['settle-max']), log);
        const started = performance.now();
        const res = await fetch(`${server.url}/v1.0/foyer/bulkInvitations?fileName=bench.csv`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'text/csv' },
          body: file,
        });
        if (res.status !== 202) throw new Error(`${engine}: upload answered ${res.status} ${await res.text()}`);
        const uploadSeconds = (performance.now() - started) / 1000;
        const { id } = (await res.json()) as { id: string };
        let state: { status: string; processed: number; succeeded: number; failed: number; total: number };
        for (;;) {
          state = (await (await fetch(`${server.url}/v1.0/foyer/bulkInvitations/${id}`, { headers })).json()) as typeof state;
          if (state.status === 'completed' || state.status === 'cancelled') break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const seconds = (performance.now() - started) / 1000;
        const rss = peakRssMb(server.pid);
        await server.stop();
        server = null;

        const counts = await countRows(foyer, {
          guests: ['users', ['user_type', 'Guest']],
          invitations: ['invitations'],
          audit: ['audit_logs', ['activity_display_name', 'Invite external user']],
          mail: ['mail_messages'],
        });
        log(
          `${engine} ${size}: ${seconds.toFixed(1)} s (upload ${uploadSeconds.toFixed(1)} s), peak RSS ${rss} MB; ${JSON.stringify(state)} ${JSON.stringify(counts)}`,
        );
        if (state.succeeded !== size || Object.values(counts).some((c) => c !== size))
          throw new Error(`${engine} ${size}: not every line was invited: ${JSON.stringify({ state, counts })}`);
        rows.push([engine, size.toLocaleString('en'), seconds.toFixed(1), uploadSeconds.toFixed(1), Math.round(size / seconds), rss, loadAtStart.toFixed(2)]);
      } finally {
        await server?.stop();
        await foyer.cleanup();
      }
    }
  }

  const markdown = [
    '## bulk-invite',
    '',
    runLine(command, facts),
    '',
    "A generated file in Entra's template (every line with `sendEmail` TRUE and a message) uploaded as `text/csv` to `foyer serve` (job worker in the same process), then polled until the job is completed. The time runs from the start of the upload to completion: the file stored and validated, and for every line the guest, its invitation, its audit entry and its queued email committed (counted in the database afterwards). Peak RSS is the server process's VmHWM. Targets on 2 cores: 100,000 lines in ≤ 15 s on SQLite and ≤ 30 s on PostgreSQL, peak RSS ≤ 300 MB, 10,000 lines in no more than a tenth of the 100,000-line time.",
    '',
    table(['engine', 'lines', 'seconds (upload to done)', 'of which upload', 'lines/s', 'peak RSS MB', 'load avg at start'], rows),
  ].join('\n');
  writeSection(values.out, 'bulk-invite', markdown);
  log(`wrote ${values.out}; load average now ${load1().toFixed(2)}`);
}
