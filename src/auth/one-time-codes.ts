import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { deriveKey, hmac, safeEqual } from './secrets.js';

export const CODE_LIFETIME_MS = 30 * 60 * 1000;
export const MAX_WRONG_CODES = 5;
const CODE_DIGITS = 8;

export type CodeCheck = { ok: true } | { ok: false; reason: 'wrong'; attemptsLeft: number } | { ok: false; reason: 'expired' | 'locked' | 'none' };

/**
 * Email one-time passcodes: 8 digits, valid 30 minutes, five wrong tries and the code is dead,
 * one live code per user, stored as a keyed hash.
 */
export function createOneTimeCodes(secret: string, clock: Clock) {
  const key = deriveKey(secret, 'one-time-code');
  const digest = (id: string, code: string) => hmac(key, `${id}:${code}`);

  return {
    /** A new code for the user (earlier ones stop working). Returns the code, to be emailed. */
    async issue(trx: Kysely<Database>, tenantId: string, userId: string): Promise<string> {
      const now = clock.now();
      const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
      const id = newId();
      await trx.updateTable('one_time_codes').set({ consumed_at: now.toISOString() }).where('user_id', '=', userId).where('consumed_at', 'is', null).execute();
      await trx
        .insertInto('one_time_codes')
        .values({
          tenant_id: tenantId,
          id,
          user_id: userId,
          code_hash: digest(id, code),
          created_at: now.toISOString(),
          expires_at: new Date(now.getTime() + CODE_LIFETIME_MS).toISOString(),
          failed_attempts: 0,
          consumed_at: null,
        })
        .execute();
      return code;
    },

    /**
     * Checks the user's live code; a right code is consumed (single use). Every guess first takes one
     * of the code's MAX_WRONG_CODES slots in one conditional update, and only a guess that got a slot
     * is judged: parallel guesses cannot all read the same count, and once the slots are spent even
     * the right code is refused.
     */
    async verify(db: Kysely<Database>, userId: string, code: string): Promise<CodeCheck> {
      const row = await db
        .selectFrom('one_time_codes')
        .select(['id', 'code_hash', 'expires_at'])
        .where('user_id', '=', userId)
        .where('consumed_at', 'is', null)
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      if (!row) return { ok: false, reason: 'none' };
      const now = clock.now().toISOString();
      if (row.expires_at <= now) return { ok: false, reason: 'expired' };
      const slot = await db
        .updateTable('one_time_codes')
        .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
        .where('id', '=', row.id)
        .where('consumed_at', 'is', null)
        .where('failed_attempts', '<', MAX_WRONG_CODES)
        .returning('failed_attempts')
        .executeTakeFirst();
      if (!slot) {
        const consumed = await db.selectFrom('one_time_codes').select('consumed_at').where('id', '=', row.id).executeTakeFirst();
        return { ok: false, reason: consumed?.consumed_at ? 'none' : 'locked' };
      }
      const normalized = code.replace(/\s+/g, '');
      if (/^\d{1,12}$/.test(normalized) && safeEqual(digest(row.id, normalized), row.code_hash)) {
        // Conditional on still being unconsumed: two requests with the same code cannot both win.
        const r = await db.updateTable('one_time_codes').set({ consumed_at: now }).where('id', '=', row.id).where('consumed_at', 'is', null).executeTakeFirst();
        return Number(r.numUpdatedRows) === 1 ? { ok: true } : { ok: false, reason: 'none' };
      }
      const used = slot.failed_attempts;
      return used >= MAX_WRONG_CODES ? { ok: false, reason: 'locked' } : { ok: false, reason: 'wrong', attemptsLeft: MAX_WRONG_CODES - used };
    },
  };
}
export type OneTimeCodes = ReturnType<typeof createOneTimeCodes>;
