import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Database, JobsTable } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { jobSignals } from './job-signals.js';
import { claimJobs, completeJob, extendJobLock, failJob, rescheduleJob } from './jobs.repository.js';

/** What a handler may ask for after it ran: a recurring job names its next run. */
export interface JobOutcome {
  nextRunAt?: string;
}

/**
 * A job handler. Delivery is at-least-once (a worker can die after the work and before the
 * completion is written), so every handler must be idempotent.
 */
export type JobHandler = (job: {
  id: string;
  tenantId: string | null;
  payload: unknown;
  attempt: number;
  lastAttempt: boolean;
  /** A long job calls this as it makes progress, so its claim does not expire under it. */
  extendLock(): Promise<void>;
}) => Promise<JobOutcome | void>;

export interface WorkerOptions {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  handlers: Record<string, JobHandler>;
  logger?: { error(obj: unknown, msg?: string): void };
  pollMs?: number;
  batchSize?: number;
  /** How long a claimed job stays locked before another worker may take it over. */
  lockMs?: number;
}

/** Exponential backoff with jitter, capped at an hour. */
export function retryDelayMs(attempt: number): number {
  const base = Math.min(3_600_000, 1000 * 2 ** Math.min(attempt, 12));
  return base / 2 + Math.random() * (base / 2);
}

export interface Worker {
  /** Runs every job that is due now, then returns how many ran (tests and `drain` use it). */
  runDue(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export function createWorker(options: WorkerOptions): Worker {
  const { db, engine, clock, handlers } = options;
  const workerId = `${hostname()}:${process.pid}:${newId().slice(0, 8)}`;
  const pollMs = options.pollMs ?? 1000;
  const lockMs = options.lockMs ?? 5 * 60_000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let stopped = true;
  let wokenWhileRunning = false;

  async function runOne(job: JobsTable): Promise<void> {
    const handler = handlers[job.type];
    const now = () => clock.now().toISOString();
    try {
      if (!handler) throw new Error(`No handler for job type '${job.type}'`);
      const outcome = await handler({
        id: job.id,
        tenantId: job.tenant_id,
        payload: JSON.parse(job.payload),
        attempt: job.attempts,
        lastAttempt: job.attempts >= job.max_attempts,
        extendLock: () => extendJobLock(db, job.id, workerId, new Date(clock.now().getTime() + lockMs).toISOString()),
      });
      if (outcome?.nextRunAt) await rescheduleJob(db, job.id, workerId, outcome.nextRunAt);
      else await completeJob(db, job.id, workerId, now());
    } catch (error) {
      options.logger?.error({ err: error, jobId: job.id, type: job.type }, 'job failed');
      const retryAt = new Date(clock.now().getTime() + retryDelayMs(job.attempts)).toISOString();
      await failJob(db, job, workerId, String((error as Error)?.message ?? error).slice(0, 2000), retryAt, now());
    }
  }

  async function runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = clock.now();
      const jobs = await claimJobs(db, engine, workerId, now.toISOString(), new Date(now.getTime() + lockMs).toISOString(), options.batchSize ?? 20);
      if (jobs.length === 0) return total;
      // In the order they fell due (an UPDATE … RETURNING gives its rows in no set order).
      jobs.sort((a, b) => a.run_at.localeCompare(b.run_at) || a.id.localeCompare(b.id));
      for (const job of jobs) await runOne(job);
      total += jobs.length;
    }
  }

  const tick = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = null;
    running = runDue()
      .catch((error) => options.logger?.error({ err: error }, 'job polling failed'))
      .finally(() => {
        running = null;
        const again = wokenWhileRunning;
        wokenWhileRunning = false;
        if (!stopped) timer = setTimeout(tick, again ? 0 : pollMs);
      });
  };

  /** Polls now when idle, or right after the poll that is running (it may have looked already). */
  const wake = () => {
    if (running) wokenWhileRunning = true;
    else tick();
  };

  return {
    runDue,
    start() {
      if (!stopped) return;
      stopped = false;
      jobSignals.on('committed', wake);
      tick();
    },
    async stop() {
      stopped = true;
      jobSignals.off('committed', wake);
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
