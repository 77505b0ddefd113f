import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Database, JobsTable } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { jobSignals } from './job-signals.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { claimJobs, completeJob, extendJobLock, failJob, releaseJobs, rescheduleJob } from './jobs.repository.js';

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

/** Where the worker reports failed jobs and polls, and that it resumed. */
export interface WorkerLog {
  error(obj: unknown, msg?: string): void;
  info?(obj: unknown, msg?: string): void;
}

export interface WorkerOptions {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  handlers: Record<string, JobHandler>;
  logger?: WorkerLog;
  pollMs?: number;
  batchSize?: number;
  /** How long a claimed job stays locked before another worker may take it over. */
  lockMs?: number;
}

/** Exponential backoff with jitter, capped at `capMs` (an hour unless given). */
export function retryDelayMs(attempt: number, capMs = 3_600_000): number {
  const base = Math.min(capMs, 1000 * 2 ** Math.min(attempt, 12));
  return base / 2 + Math.random() * (base / 2);
}

/** Longest wait between two polls while the database cannot be reached, so the worker resumes soon after it can. */
const MAX_POLL_BACKOFF_MS = 5_000;

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
  let failedPolls = 0;
  /**
   * Set when the database went away during a poll: the job that was running then (its transaction
   * was rolled back), if any. The worker's claims are handed back when the database answers again,
   * instead of waiting for their locks to expire.
   */
  let dropped: { interrupted: JobsTable | null; error: string } | null = null;

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
      // Recording the failure fails too while the database cannot be reached: the poll stops there.
      options.logger?.error({ err: error, jobId: job.id, type: job.type }, 'job failed');
      const retryAt = new Date(clock.now().getTime() + retryDelayMs(job.attempts)).toISOString();
      await failJob(db, job, workerId, String((error as Error)?.message ?? error).slice(0, 2000), retryAt, now());
    }
  }

  /**
   * Hands back this worker's claims after the database went away: the interrupted job is retried
   * later as a failed attempt; every other claim is due at once and uncounted, since jobs run one at
   * a time and none of them started (a claim whose answer was lost among them).
   */
  async function releaseDropped(): Promise<void> {
    if (!dropped) return;
    const now = clock.now();
    const { interrupted, error } = dropped;
    if (interrupted) {
      const retryAt = new Date(now.getTime() + retryDelayMs(interrupted.attempts)).toISOString();
      await releaseJobs(db, workerId, { ids: [interrupted.id], runAt: retryAt, uncount: false, error });
    }
    await releaseJobs(db, workerId, { runAt: now.toISOString(), uncount: true });
    dropped = null;
  }

  /** Runs every job that is due; not re-entrant (the poll loop runs one at a time). */
  async function runDue(): Promise<number> {
    let current: JobsTable | null = null;
    try {
      await releaseDropped();
      let total = 0;
      for (;;) {
        const now = clock.now();
        const jobs = await claimJobs(db, engine, workerId, now.toISOString(), new Date(now.getTime() + lockMs).toISOString(), options.batchSize ?? 20);
        if (jobs.length === 0) return total;
        // In the order they fell due (an UPDATE … RETURNING gives its rows in no set order).
        jobs.sort((a, b) => a.run_at.localeCompare(b.run_at) || a.id.localeCompare(b.id));
        for (const job of jobs) {
          current = job;
          await runOne(job);
          current = null;
        }
        total += jobs.length;
      }
    } catch (error) {
      if (isDatabaseUnavailable(error))
        dropped = {
          interrupted: current ?? dropped?.interrupted ?? null,
          error: `Interrupted: the database could not be reached (${(error as Error).message})`.slice(0, 2000),
        };
      throw error;
    }
  }

  const tick = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = null;
    running = runDue()
      .then(
        () => {
          if (failedPolls > 0) options.logger?.info?.({ failedPolls }, 'job polling resumed');
          failedPolls = 0;
        },
        (error) => {
          failedPolls++;
          options.logger?.error({ err: error, failedPolls }, 'job polling failed; retrying with backoff');
        },
      )
      .finally(() => {
        running = null;
        const again = wokenWhileRunning;
        wokenWhileRunning = false;
        // While the database cannot be reached, polls back off (up to 5 s) instead of failing every second.
        const delay = failedPolls > 0 ? Math.max(pollMs, retryDelayMs(failedPolls - 1, MAX_POLL_BACKOFF_MS)) : again ? 0 : pollMs;
        if (!stopped) timer = setTimeout(tick, delay);
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
