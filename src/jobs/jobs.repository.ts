import { sql, type Kysely } from 'kysely';
import type { Database, JobsTable } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import { newId } from '../ids.js';
import { insertMany } from '../db/bulk-insert.js';

export interface NewJob {
  type: string;
  payload?: unknown;
  tenantId?: string | null;
  runAt: string;
  maxAttempts?: number;
  /** Recurring jobs: one row per key, created once and rescheduled in place. */
  singletonKey?: string;
}

const jobRow = (job: NewJob, now: string): JobsTable => ({
  id: newId(),
  tenant_id: job.tenantId ?? null,
  type: job.type,
  payload: JSON.stringify(job.payload ?? {}),
  status: 'queued',
  attempts: 0,
  max_attempts: job.maxAttempts ?? 10,
  run_at: job.runAt,
  locked_until: null,
  locked_by: null,
  last_error: null,
  singleton_key: job.singletonKey ?? null,
  created_at: now,
  completed_at: null,
});

/** Adds a job in the caller's transaction, so it exists exactly when the change that causes it does. */
export async function enqueueJob(trx: Kysely<Database>, job: NewJob, now: string): Promise<void> {
  let q = trx.insertInto('jobs').values(jobRow(job, now));
  if (job.singletonKey) q = q.onConflict((oc) => oc.column('singleton_key').doNothing());
  await q.execute();
}

/** Adds many jobs (without singleton keys) in the caller's transaction, in a few statements. */
export async function enqueueJobs(trx: Kysely<Database>, jobs: readonly NewJob[], now: string): Promise<void> {
  await insertMany(
    trx,
    'jobs',
    jobs.map((j) => jobRow(j, now)),
  );
}

/** Keeps a long job's claim: another worker may take a job over only once its lock has expired. */
export async function extendJobLock(db: Kysely<Database>, id: string, workerId: string, lockUntil: string): Promise<void> {
  await db.updateTable('jobs').set({ locked_until: lockUntil }).where('id', '=', id).where('locked_by', '=', workerId).execute();
}

/**
 * Claims up to `limit` due jobs for `workerId`: queued ones whose time has come, and running
 * ones whose lock expired (their worker died). On PostgreSQL `FOR UPDATE SKIP LOCKED` keeps
 * concurrent workers off each other's rows; SQLite has a single writer, so the update is atomic.
 */
export async function claimJobs(db: Kysely<Database>, engine: Engine, workerId: string, now: string, lockUntil: string, limit: number): Promise<JobsTable[]> {
  const due = db
    .selectFrom('jobs')
    .select('id')
    .where((eb) =>
      eb.or([eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]), eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)])]),
    )
    .orderBy('run_at')
    .limit(limit);
  const candidates = engine === 'postgres' ? due.forUpdate().skipLocked() : due;
  return db
    .updateTable('jobs')
    .set({ status: 'running', locked_by: workerId, locked_until: lockUntil, attempts: sql`attempts + 1` })
    .where('id', 'in', candidates)
    .returningAll()
    .execute();
}

export async function completeJob(db: Kysely<Database>, id: string, workerId: string, now: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'done', completed_at: now, locked_until: null, last_error: null })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .execute();
}

/** Puts a recurring job back in the queue for its next run, keeping its row. */
export async function rescheduleJob(db: Kysely<Database>, id: string, workerId: string, runAt: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'queued', run_at: runAt, attempts: 0, locked_until: null, locked_by: null, last_error: null })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .execute();
}

/**
 * Hands back claims `workerId` could not finish because the database went away (those in `ids`, or
 * all of them): queued again, due at `runAt`. `uncount` takes back the attempt the claim counted
 * (the job never ran). A claim another worker has taken over since (its lock expired) is left alone.
 */
export async function releaseJobs(
  db: Kysely<Database>,
  workerId: string,
  release: { ids?: readonly string[]; runAt: string; uncount: boolean; error?: string },
): Promise<void> {
  let q = db
    .updateTable('jobs')
    .set({
      status: 'queued',
      run_at: release.runAt,
      locked_until: null,
      locked_by: null,
      ...(release.uncount ? { attempts: sql<number>`attempts - 1` } : {}),
      ...(release.error ? { last_error: release.error } : {}),
    })
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running');
  if (release.ids) q = q.where('id', 'in', release.ids);
  await q.execute();
}

/** Records a failure: retried at `retryAt`, or marked failed after its last attempt. */
export async function failJob(db: Kysely<Database>, job: JobsTable, workerId: string, error: string, retryAt: string, now: string): Promise<void> {
  const final = job.attempts >= job.max_attempts;
  await db
    .updateTable('jobs')
    .set(
      final
        ? { status: 'failed', last_error: error, locked_until: null, completed_at: now }
        : { status: 'queued', last_error: error, locked_until: null, locked_by: null, run_at: retryAt },
    )
    .where('id', '=', job.id)
    .where('locked_by', '=', workerId)
    .execute();
}
