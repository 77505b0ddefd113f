import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/**
 * The browser tests need the built admin center. `npm install` builds it; this builds it again
 * only when web/ changed since (once per run, before any test file starts).
 */
export default function setup(): void {
  buildAdminCenterIfStale();
}

/** Builds dist/web unless it is newer than every file under web/ (also used by the admin-guests benchmark). */
export function buildAdminCenterIfStale(): void {
  const index = path.join(root, 'dist', 'web', 'index.html');
  const sources = Math.max(newest(path.join(root, 'web', 'src')), statSync(path.join(root, 'web', 'index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) throw new Error('building the admin center (vite build) failed');
}
