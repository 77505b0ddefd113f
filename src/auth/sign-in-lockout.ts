import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';

/** Entra's default smart lockout threshold: the tenth failed password of an account locks it. */
export const ACCOUNT_LOCKOUT_THRESHOLD = 10;
/** Failed passwords from one client address, whatever the account, within ADDRESS_WINDOW_MS. */
export const ADDRESS_LOCKOUT_THRESHOLD = 50;
const ADDRESS_WINDOW_MS = 15 * 60_000;
/** How long each successive lock lasts: a minute, as Entra's first lock, then doubling up to 30 minutes. */
export const LOCK_SECONDS = [60, 120, 240, 480, 960, 1800] as const;
/** A key with no attempt for a day is forgotten, lock history included. */
const FORGET_AFTER_MS = 24 * 3600_000;

export type LockoutScope = 'account' | 'address';

interface LockoutRule {
  key: string;
  scope: LockoutScope;
  threshold: number;
  /** After this long since the count began, counting starts over (null: only a success or a quiet day clears it). */
  windowMs: number | null;
}

export type AttemptClaim = { ok: true; keys: { account: string; address: string } } | { ok: false; scope: LockoutScope; retryAfterSeconds: number };

/**
 * Smart lockout of password sign-in, counted per account and per client address in one table
 * shared by every process. Each attempt is counted before its password is checked, in one
 * conditional upsert per key that refuses while the key is locked: parallel attempts cannot all
 * read the same count, so no more than the threshold are ever judged. The attempt that reaches the
 * threshold locks the key; once the lock has passed, each further failure locks it again, longer.
 */
export function createSignInLockout(db: Kysely<Database>, clock: Clock) {
  /** Counts one attempt against `rule`; answers false when the key is locked (nothing counted). */
  async function count(rule: LockoutRule, now: Date): Promise<boolean> {
    const at = now.toISOString();
    // A window that never ends has its start compared with the empty string, which no timestamp is before.
    const cutoff = rule.windowMs === null ? '' : new Date(now.getTime() - rule.windowMs).toISOString();
    const restarts = sql<boolean>`sign_in_lockouts.window_start <= ${cutoff}`;
    const failures = sql<number>`(case when ${restarts} then 1 else sign_in_lockouts.failures + 1 end)`;
    const locks = sql<boolean>`${failures} >= ${rule.threshold}`;
    const lockEnds = LOCK_SECONDS.map((s) => new Date(now.getTime() + s * 1000).toISOString());
    const lockEnd = sql<string>`(case ${sql.join(
      lockEnds.slice(0, -1).map((end, i) => sql`when sign_in_lockouts.lockouts = ${i} then ${end}`),
      sql` `,
    )} else ${lockEnds.at(-1)!} end)`;
    const counted = await db
      .insertInto('sign_in_lockouts')
      .values({ key: rule.key, window_start: at, failures: 1, lockouts: 0, locked_until: null, last_attempt_at: at })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({
            failures,
            window_start: sql<string>`(case when ${restarts} then ${at} else sign_in_lockouts.window_start end)`,
            lockouts: sql<number>`(case when ${locks} then sign_in_lockouts.lockouts + 1 else sign_in_lockouts.lockouts end)`,
            locked_until: sql<string | null>`(case when ${locks} then ${lockEnd} else sign_in_lockouts.locked_until end)`,
            last_attempt_at: at,
          })
          .where(sql<boolean>`sign_in_lockouts.locked_until is null or sign_in_lockouts.locked_until <= ${at}`),
      )
      .returning('key')
      .executeTakeFirst();
    return counted !== undefined;
  }

  async function refusal(rule: LockoutRule, now: Date): Promise<AttemptClaim> {
    const row = await db.selectFrom('sign_in_lockouts').select('locked_until').where('key', '=', rule.key).executeTakeFirst();
    const until = row?.locked_until ? Date.parse(row.locked_until) : now.getTime();
    return { ok: false, scope: rule.scope, retryAfterSeconds: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) };
  }

  /** Gives back the attempt counted against each key (one that was not judged, or that succeeded). */
  async function uncount(keys: string[]): Promise<void> {
    await db
      .updateTable('sign_in_lockouts')
      .set((eb) => ({ failures: eb('failures', '-', 1) }))
      .where('key', 'in', keys)
      .where('failures', '>', 0)
      .execute();
  }

  return {
    /**
     * Counts a password attempt against the client address, then the account (`account:<id>`, or
     * `name:<tenant>:<name>` for a name that matches no account, so that unknown names lock just as
     * accounts do and a lock tells nothing about whether an account exists). Answers which lock
     * refused it, if any, and for how long.
     */
    async claim(account: string, address: string): Promise<AttemptClaim> {
      const now = clock.now();
      const byAddress: LockoutRule = { key: `address:${address}`, scope: 'address', threshold: ADDRESS_LOCKOUT_THRESHOLD, windowMs: ADDRESS_WINDOW_MS };
      const byAccount: LockoutRule = { key: account, scope: 'account', threshold: ACCOUNT_LOCKOUT_THRESHOLD, windowMs: null };
      if (!(await count(byAddress, now))) return refusal(byAddress, now);
      if (!(await count(byAccount, now))) {
        // Refused unheard: no password was checked, so the address is not charged for it.
        await uncount([byAddress.key]);
        return refusal(byAccount, now);
      }
      return { ok: true, keys: { account: byAccount.key, address: byAddress.key } };
    },

    /** A right password: the account starts afresh; the address gets its attempt back (it was no failure). */
    async succeeded(keys: { account: string; address: string }): Promise<void> {
      await db.deleteFrom('sign_in_lockouts').where('key', '=', keys.account).execute();
      await uncount([keys.address]);
    },

    /** The password was never checked (the server was too busy): the attempt does not count. */
    async unjudged(keys: { account: string; address: string }): Promise<void> {
      await uncount([keys.account, keys.address]);
    },
  };
}
export type SignInLockout = ReturnType<typeof createSignInLockout>;

/** Forgets keys that are not locked and have had no attempt for a day (called by a recurring job). */
export async function pruneSignInLockouts(db: Kysely<Database>, clock: Clock): Promise<void> {
  const now = clock.now();
  await db
    .deleteFrom('sign_in_lockouts')
    .where('last_attempt_at', '<', new Date(now.getTime() - FORGET_AFTER_MS).toISOString())
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now.toISOString())]))
    .execute();
}
