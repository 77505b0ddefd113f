import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { deriveKey } from '../auth/secrets.js';

export const SIGNING_ALG = 'RS256';
/**
 * A replaced key stays published this long, so ID tokens it signed (one hour) and relying parties
 * that cache the JWKS (a day is common) keep verifying.
 */
export const RETIRED_KEY_GRACE_MS = 48 * 60 * 60 * 1000;

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  createdDateTime: string;
  retireDateTime: string | null;
  active: boolean;
}

/**
 * ID token signing keys, kept in the database so every process signs with the same key and
 * publishes the same JWKS. Private keys are encrypted (AES-256-GCM) with a key derived from
 * FOYER_SECRET; the newest key signs, replaced keys stay published for verification a while.
 */
export function createSigningKeys(db: Kysely<Database>, secret: string, clock: Clock) {
  const key = Buffer.from(deriveKey(secret, 'oidc-signing-key'));

  const encrypt = (jwk: JWK): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
  };
  const decrypt = (value: string): JWK => {
    const raw = Buffer.from(value, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as JWK;
  };

  /** Published keys, newest (the signing key) first. */
  const published = () => {
    const now = clock.now().toISOString();
    return db
      .selectFrom('oidc_signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retire_at', 'is', null), eb('retire_at', '>', now)]))
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .execute();
  };

  async function rotate(): Promise<string> {
    const { privateKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = randomBytes(16).toString('base64url');
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('oidc_signing_keys')
        .set({ retire_at: new Date(now.getTime() + RETIRED_KEY_GRACE_MS).toISOString() })
        .where('retire_at', 'is', null)
        .execute();
      await trx
        .insertInto('oidc_signing_keys')
        .values({
          kid,
          alg: SIGNING_ALG,
          public_jwk: JSON.stringify({ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }),
          private_jwk_encrypted: encrypt({ ...jwk, kid, alg: SIGNING_ALG, use: 'sig' }),
          created_at: now.toISOString(),
          retire_at: null,
        })
        .execute();
    });
    return kid;
  }

  return {
    /** Makes a new signing key; the current one stays published for RETIRED_KEY_GRACE_MS. Returns the new key id. */
    rotate,

    /** The private JWKs to sign and publish with (newest first), creating the first key when there is none. */
    async signingJwks(): Promise<JWK[]> {
      let rows = await published();
      if (rows.length === 0) {
        await rotate();
        rows = await published();
      }
      return rows.map((r) => decrypt(r.private_jwk_encrypted));
    },

    /** Changes whenever a key is added or retired; processes rebuild their provider when it does. */
    async fingerprint(): Promise<string> {
      return (await published()).map((r) => r.kid).join(',');
    },

    async list(): Promise<SigningKeyInfo[]> {
      const live = new Set((await published()).map((r) => r.kid));
      const rows = await db.selectFrom('oidc_signing_keys').select(['kid', 'alg', 'created_at', 'retire_at']).orderBy('created_at', 'desc').execute();
      return rows.map((r, i) => ({
        kid: r.kid,
        alg: r.alg,
        createdDateTime: r.created_at,
        retireDateTime: r.retire_at,
        active: i === 0 && live.has(r.kid),
      }));
    },

    /** Forgets keys that are no longer published. */
    async purgeRetired(): Promise<number> {
      const r = await db.deleteFrom('oidc_signing_keys').where('retire_at', '<=', clock.now().toISOString()).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
export type SigningKeys = ReturnType<typeof createSigningKeys>;
