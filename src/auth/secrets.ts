import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';

/** 256 random bits, URL-safe: session cookies, client secrets, link tokens. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** Storage form of a high-entropy token: its SHA-256. Fast lookups, nothing usable if leaked. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const derivedKeys = new Map<string, Uint8Array>();

/**
 * A purpose-bound key derived from FOYER_SECRET, so one secret never signs two kinds of thing.
 * Derived once per secret and purpose: HKDF costs more than the HMAC it keys (a link token per
 * invitation, a hundred thousand in a bulk job).
 */
export function deriveKey(secret: string, purpose: string): Uint8Array {
  const id = `${purpose}\u0000${secret}`;
  let key = derivedKeys.get(id);
  if (!key) {
    key = new Uint8Array(hkdfSync('sha256', secret, 'foyer', purpose, 32));
    derivedKeys.set(id, key);
  }
  return key;
}

export const hmac = (key: Uint8Array | string, value: string): string => createHmac('sha256', key).update(value).digest('base64url');

/** Passwords are low-entropy, so they get argon2id (memory-hard), never a plain hash. */
export const hashPassword = (password: string): Promise<string> => argon2.hash(password, { type: argon2.argon2id });

// A fixed hash verified when the account does not exist, so the answer takes as long either way.
let dummyHash: Promise<string> | null = null;
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword(randomToken());
    await argon2.verify(await dummyHash, password);
    return false;
  }
  return argon2.verify(hash, password);
}
