import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { GraphError } from '../graph/errors.js';

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

/**
 * Passwords are low-entropy, so they get argon2id (memory-hard), never a plain hash; every new
 * hash uses these. One lane: a check then runs on its one pool thread instead of starting threads
 * of its own, so bounding concurrent checks (`passwordWork`) bounds the CPU they take.
 */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 65_536, timeCost: 3, parallelism: 1 } as const;
// Verified when the account does not exist, so the answer takes as long either way: a hash made
// with ARGON2_OPTIONS of a random password nobody kept.
const DUMMY_HASH = '$argon2id$v=19$m=65536,p=1,t=3$y7duWSzV9W6jS6MlDK7EhA$LjqVek3T2zm9zuZKifpP/C1wEzEmzsE4jv8ROlpxqdY';

/**
 * Work that takes a thread of libuv's pool for a long time, run at most `concurrency` at once:
 * the rest wait in a queue of at most `maxWaiting`, and beyond that are refused (429 with
 * Retry-After) instead of piling up. The pool is shared with file reads, DNS and zlib, so a flood
 * of password checks must not take every thread of it. A refusal is answered after
 * `refusalPauseMs`: a client that asks again at once cannot turn refusals, cheap as each one is,
 * into a flood that keeps the event loop busy.
 */
export function createWorkLimit(concurrency: number, maxWaiting: number, refusalPauseMs: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  // A running estimate of one job's duration, for Retry-After.
  let averageMs = 100;
  const full = () => running >= concurrency && waiting.length >= maxWaiting;
  const refuse = async (): Promise<never> => {
    const seconds = Math.max(1, Math.ceil(((waiting.length / concurrency + 1) * averageMs) / 1000));
    await new Promise((resolve) => setTimeout(resolve, refusalPauseMs));
    throw new GraphError('Request_ThrottledTemporarily', `The server is busy checking other passwords. Try again in ${seconds} seconds.`, {
      'retry-after': String(seconds),
    });
  };
  return {
    /** Refuses (as `run` would) when the queue is full now, before the caller does other work on the way to `run`. */
    async refuseWhenFull(): Promise<void> {
      if (full()) await refuse();
    },
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (running < concurrency) running++;
      else if (waiting.length >= maxWaiting) await refuse();
      // A finishing job hands its place straight to the first in the queue.
      else await new Promise<void>((resolve) => waiting.push(resolve));
      const started = performance.now();
      try {
        return await work();
      } finally {
        averageMs = 0.8 * averageMs + 0.2 * (performance.now() - started);
        const next = waiting.shift();
        if (next) next();
        else running--;
      }
    },
  };
}

/**
 * Password hashing and checking: argon2 takes a pool thread for tens of milliseconds or more each,
 * so one thread of the pool (and one CPU) is always left to everything else; 32 more wait, and a
 * refusal comes after a second (the shortest Retry-After it names).
 */
export const passwordWork = createWorkLimit(Math.max(1, Math.min((Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1, availableParallelism() - 1)), 32, 1000);

export const hashPassword = (password: string): Promise<string> => passwordWork.run(() => argon2.hash(password, ARGON2_OPTIONS));

/** Whether `password` matches `hash`; with no hash (no such account) a dummy is checked, so both take as long. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  const matches = await passwordWork.run(() => argon2.verify(hash ?? DUMMY_HASH, password));
  return hash !== null && matches;
}

/** Whether a stored hash was made with other parameters than new ones are (it is replaced at the next sign-in). */
export const passwordNeedsRehash = (hash: string): boolean => argon2.needsRehash(hash, ARGON2_OPTIONS);
