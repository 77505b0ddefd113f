// `npm run bench -- invite`: invitations per second through POST /v1.0/invitations with
// sendInvitationMessage true (outbox transport), concurrency 16, on SQLite and PostgreSQL.
// Afterwards the database is counted, so the figure is only claimed for invitations whose
// user, invitation, audit entry, queued email and delivery job were all committed.
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  clientToken,
  countRows,
  invitedRows,
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

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      engines: { type: 'string', default: 'sqlite,postgres' },
      connections: { type: 'string', default: '16' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      settle: { type: 'string', default: '1.0' },
      'settle-max': { type: 'string', default: '600' },
      'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      out: { type: 'string', default: path.join(repoRoot, 'docs', 'benchmarks.md') },
    },
  });
  const engines = values.engines.split(',').map((e) => e.trim()) as Engine[];
  const connections = Number(values.connections);
  const duration = Number(values.duration);
  const log = (m: string) => console.log(`[invite] ${m}`);
  const command = `npm run bench -- invite${argv.length ? ' ' + argv.join(' ') : ''}`;
  const facts = await machineFacts(engines.includes('postgres') ? values['pg-url'] : null);
  const rows: (string | number)[][] = [];

  for (const engine of engines) {
    const foyer = await freshFoyer(engine, values['pg-url'], { FOYER_INVITE_RATE_PER_MINUTE: '0' });
    let server: Server | null = null;
    try {
      // The API alone: delivery is the worker's job, measured separately from accepting invitations.
      server = await startServer(nodeArgs('src/cli/foyer.ts', ['serve', '--no-worker']), foyer.env, /listening on \S+:(\d+)/);
      const token = await clientToken(server.url, foyer.env, 'User.Invite.All');
      let n = 0;
      const run = (seconds: number) =>
        autocannon({
          url: `${server!.url}/v1.0/invitations`,
          method: 'POST',
          connections,
          duration: seconds,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                body: JSON.stringify({
                  invitedUserEmailAddress: `guest${n++}@partner${n % 50}.test`,
                  inviteRedirectUrl: 'https://apps.contoso.test',
                  sendInvitationMessage: true,
                }),
              }),
            },
          ],
        });
      if (Number(values.warmup) > 0) await run(Number(values.warmup));
      const loadAtStart = await settle(Number(values.settle), Number(values['settle-max']), log);
      const r = await run(duration);
      if (r.errors || r.timeouts || r.non2xx) throw new Error(`${engine}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
      await server.stop();
      server = null;

      const counts = await countRows(foyer, { ...invitedRows, jobs: ['jobs', ['type', 'mail.send']] });
      const total = n;
      const consistent = Object.values(counts).every((c) => c === counts.guests);
      log(
        `${engine}: ${r.requests.average.toFixed(0)} invitations/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; committed ${JSON.stringify(counts)} for ${total} requests sent`,
      );
      if (!consistent) throw new Error(`${engine}: counts differ: ${JSON.stringify(counts)}`);
      rows.push([engine, Math.round(r.requests.average), r.latency.p50, r.latency.p99, r.requests.total, counts.guests, loadAtStart.toFixed(2)]);
    } finally {
      await server?.stop();
      await foyer.cleanup();
    }
  }

  const markdown = [
    '## invite',
    '',
    runLine(command, facts),
    '',
    `POST /v1.0/invitations with \`sendInvitationMessage: true\` (outbox transport), a new address per request, ${connections} connections for ${duration} s after a warm-up, served by \`foyer serve --no-worker\` in its own process. Each invitation commits the guest user and its search and identity rows, the invitation, the audit entry, the email and its delivery job in one transaction; the "guests committed" column is the number of guests counted in the database afterwards, warm-up included (equal to invitations, audit entries, emails and jobs, or the run fails). Target: ≥ 1,500 invitations/s on SQLite.`,
    '',
    table(['engine', 'invitations/s', 'p50 ms', 'p99 ms', 'requests', 'guests committed (all tables)', 'load avg at start'], rows),
  ].join('\n');
  writeSection(values.out, 'invite', markdown);
  log(`wrote ${values.out}; load average now ${load1().toFixed(2)}`);
}
