// `npm run bench -- NAME [options]`: runs one named benchmark. Each benchmark is a module
// exporting `run(args)`; add new ones to this table.
import { execFileSync } from 'node:child_process';

const benchmarks: Record<string, { description: string; load: () => Promise<{ run(args: string[]): Promise<void> }> }> = {
  'users-list': {
    description: 'GET /v1.0/users at 1,000,000 users (filter, deep page, $search, $count) against a bare Fastify route, on SQLite and PostgreSQL',
    load: () => import('./users-list.js'),
  },
  'admin-guests': {
    description: 'admin center Guest users page in Chromium at 1,000,000 users: first rows after navigation, scrolling, search after the last keystroke',
    load: () => import('./admin-guests.js'),
  },
  invite: {
    description: 'POST /v1.0/invitations per second (with email, outbox), concurrency 16, on SQLite and PostgreSQL',
    load: () => import('./invite.js'),
  },
  'bulk-invite': {
    description: 'Upload to finished job for 10,000 and 100,000-line bulk invitations, and the server peak memory, on SQLite and PostgreSQL',
    load: () => import('./bulk-invite.js'),
  },
  'signin-flood': {
    description: 'p99 of a file download and of GET /v1.0/users/{id}, quiet and during 64 concurrent wrong-password sign-ins, on SQLite and PostgreSQL',
    load: () => import('./signin-flood.js'),
  },
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? benchmarks[name] : undefined;
if (!bench) {
  console.error(
    `Usage: npm run bench -- NAME [options]\n\nBenchmarks:\n${Object.entries(benchmarks)
      .map(([n, b]) => `  ${n.padEnd(12)} ${b.description}`)
      .join('\n')}`,
  );
  process.exit(name ? 1 : 0);
}
try {
  // Servers and CLIs are measured as shipped: the build of the current sources.
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  await (await bench.load()).run(args);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
}
