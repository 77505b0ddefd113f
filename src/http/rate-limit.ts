import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { GraphError } from '../graph/errors.js';

export interface RateLimit {
  /** Bucket name, e.g. `invite:user:<id>`. */
  bucket: string;
  limit: number;
  windowSeconds: number;
}

/**
 * Counts one hit in a fixed window shared by every process (a row per bucket and window) and
 * throws 429 with Retry-After once the limit is passed. Run it in the request's transaction, so a
 * refused request leaves nothing behind.
 */
export async function hitRateLimit(db: Kysely<Database>, clock: Clock, rule: RateLimit): Promise<void> {
  if (rule.limit <= 0) return;
  const nowMs = clock.now().getTime();
  const windowMs = rule.windowSeconds * 1000;
  const windowStartMs = Math.floor(nowMs / windowMs) * windowMs;
  const row = await db
    .insertInto('rate_limits')
    .values({ bucket: rule.bucket, window_start: new Date(windowStartMs).toISOString(), hits: 1 })
    .onConflict((oc) => oc.columns(['bucket', 'window_start']).doUpdateSet({ hits: sql`rate_limits.hits + 1` }))
    .returning('hits')
    .executeTakeFirstOrThrow();
  if (row.hits > rule.limit) {
    const retryAfter = Math.max(1, Math.ceil((windowStartMs + windowMs - nowMs) / 1000));
    throw new GraphError('Request_ThrottledTemporarily', `Too many requests. Try again in ${retryAfter} seconds.`, { 'retry-after': String(retryAfter) });
  }
}

/** Drops windows that ended long ago (called by a recurring job). */
export async function pruneRateLimits(db: Kysely<Database>, clock: Clock): Promise<void> {
  const cutoff = new Date(clock.now().getTime() - 24 * 3600_000).toISOString();
  await db.deleteFrom('rate_limits').where('window_start', '<', cutoff).execute();
}
