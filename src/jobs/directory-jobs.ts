import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { DeletedItemsService } from '../directory/deleted-items.service.js';
import { enqueueJob } from './jobs.repository.js';
import { pruneRateLimits } from '../http/rate-limit.js';
import { pruneSignInLockouts } from '../auth/sign-in-lockout.js';
import { pruneOidcPayloads } from '../apps/oidc-adapter.js';
import type { JobHandler } from './worker.js';

export const PURGE_DELETED_JOB = 'directory.purgeDeletedItems';
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** Handlers of the directory's own jobs. */
export function directoryJobHandlers(deleted: DeletedItemsService, db: Kysely<Database>, clock: Clock): Record<string, JobHandler> {
  return {
    // Hourly: purging is idempotent (it deletes only what is still past retention), so a rerun is harmless.
    // Expired counters, lockouts and OpenID Connect state go too.
    [PURGE_DELETED_JOB]: async () => {
      await deleted.purgeExpired();
      await pruneRateLimits(db, clock);
      await pruneSignInLockouts(db, clock);
      await pruneOidcPayloads(db, clock);
      return { nextRunAt: new Date(clock.now().getTime() + PURGE_INTERVAL_MS).toISOString() };
    },
  };
}

/** Makes sure the recurring jobs exist (one row each, whatever the number of processes). */
export async function scheduleRecurringJobs(db: Kysely<Database>, clock: Clock): Promise<void> {
  const now = clock.now().toISOString();
  await enqueueJob(db, { type: PURGE_DELETED_JOB, runAt: now, singletonKey: PURGE_DELETED_JOB, maxAttempts: 1_000_000 }, now);
}
