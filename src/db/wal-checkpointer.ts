import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/**
 * Copies the SQLite write-ahead log into the database file from a thread of its own.
 *
 * SQLite checkpoints inside the commit that finds the log long enough: the request that
 * happens to commit then waits while megabytes are copied and synced (a p99 of 77 ms instead of
 * 27 ms for invitations), and the event loop does nothing else meanwhile. Here a second connection
 * runs a PASSIVE checkpoint every `intervalMs`, which never blocks the writer or readers, so the
 * copying runs on another core. The server's own automatic checkpoint stays on: it finishes the
 * few frames written since the last pass, which lets the log start over from its beginning.
 */
export function startWalCheckpointer(file: string, options: { intervalMs?: number; onError?: (error: Error) => void } = {}): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? 200;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  // Plain CommonJS evaluated in the worker: it runs the same way from the sources and the build.
  const source = `
    const { workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.file);
    // A busy log (another checkpoint, a schema change) is simply tried again at the next pass.
    db.pragma('busy_timeout = 0');
    setInterval(() => {
      try {
        db.pragma('wal_checkpoint(PASSIVE)');
      } catch {}
    }, workerData.intervalMs);
  `;
  const worker = new Worker(source, { eval: true, workerData: { file, driver, intervalMs } });
  // The process ends when its real work does; the checkpointer never holds it open.
  worker.unref();
  // A thread that could not start (the file or the driver could not be opened) emits 'error', which
  // unheard would end the process. The server works on without it: SQLite checkpoints in its commits.
  worker.on(
    'error',
    options.onError ?? ((error) => console.error(`SQLite background checkpoints stopped (${error.message}); SQLite checkpoints in its commits instead.`)),
  );
  return {
    async stop() {
      await worker.terminate();
    },
  };
}
