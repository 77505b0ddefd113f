import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import argon2 from 'argon2';
import { ACCOUNT_LOCKOUT_THRESHOLD, ADDRESS_LOCKOUT_THRESHOLD, LOCK_SECONDS } from '../src/auth/sign-in-lockout.js';
import { createWorkLimit } from '../src/auth/secrets.js';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';
import { MEMBER_PASSWORD, call, createMember, createTestApp, expectGraphError, testEngine, type Caller, type TestApp } from './helpers/test-app.js';

const WRONG_LOGIN = 'The user name or password is incorrect.';
const ACCOUNT_LOCKED = /^Your account is temporarily locked to prevent unauthorized use: .* Try again in (\d+) seconds\.$/;
const ADDRESS_LOCKED = /^Sign-in from your network address is temporarily blocked: .* Try again in (\d+) seconds\.$/;

// Every password check costs an argon2id verification, one at a time per process: these tests take their time.
describe(`password sign-in lockout (${testEngine})`, { timeout: 180_000 }, () => {
  let t: TestApp;
  let admin: Caller;
  let ipSeq = 0;
  /** A client address of its own per test, so that only the tests about addresses meet the address lock. */
  const newAddress = () => `198.18.${Math.floor(++ipSeq / 250)}.${(ipSeq % 250) + 1}`;
  let nameSeq = 0;
  /** A member with MEMBER_PASSWORD; answers its sign-in name. */
  const newMember = async () => {
    const name = `Lock Member${++nameSeq}`;
    await createMember(t, admin, name);
    return `lockmember${nameSeq}@contoso.test`;
  };

  const signIn = (userName: string, password: string, remoteAddress: string) =>
    t.app.inject({ method: 'POST', url: '/v1.0/foyer/session', payload: { userName, password }, remoteAddress });
  const signedIn = (res: LightMyRequestResponse) => res.statusCode === 200 && res.cookies.some((c) => c.name === SESSION_COOKIE && c.value);
  /** The Retry-After of a locked answer, checked against the seconds its message names. */
  const lockedFor = (res: LightMyRequestResponse, message: RegExp) => {
    const error = expectGraphError(res, 401, 'Authentication_MissingOrMalformed', message);
    const seconds = Number(res.headers['retry-after']);
    expect(Number(message.exec(error.message)![1])).toBe(seconds);
    expect(res.cookies).toHaveLength(0);
    return seconds;
  };
  /** `n` wrong passwords, one after another, each answered as a wrong password. */
  async function failTimes(userName: string, n: number, address: string) {
    for (let i = 0; i < n; i++) expectGraphError(await signIn(userName, 'Wrong-Passw0rd!', address), 401, 'Authentication_MissingOrMalformed', WRONG_LOGIN);
  }

  /** The lockout row of a key, as stored. */
  const stored = (key: string) => t.database.db.selectFrom('sign_in_lockouts').selectAll().where('key', '=', key).executeTakeFirst();
  const accountKey = async (userName: string) =>
    `account:${(await t.database.db.selectFrom('users').select('id').where('user_principal_name_lower', '=', userName).executeTakeFirstOrThrow()).id}`;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
  });
  afterAll(() => t?.close());

  it(`locks an account after ${ACCOUNT_LOCKOUT_THRESHOLD} wrong passwords: the right one is refused too, with a clear message and Retry-After, from any address`, async () => {
    const user = await newMember();
    await failTimes(user, ACCOUNT_LOCKOUT_THRESHOLD, newAddress());
    const right = await signIn(user, MEMBER_PASSWORD, newAddress());
    expect(lockedFor(right, ACCOUNT_LOCKED)).toBe(LOCK_SECONDS[0]);
    expect(signedIn(right)).toBe(false);
    t.clock.advance(30_000);
    expect(lockedFor(await signIn(user, MEMBER_PASSWORD, newAddress()), ACCOUNT_LOCKED)).toBe(LOCK_SECONDS[0] - 30);
  });

  it('each lock after the first lasts longer, up to a cap; the right password once a lock has passed signs in and starts the count afresh', async () => {
    const user = await newMember();
    const address = newAddress();
    await failTimes(user, ACCOUNT_LOCKOUT_THRESHOLD, address);
    expect(lockedFor(await signIn(user, 'Wrong-Passw0rd!', address), ACCOUNT_LOCKED)).toBe(LOCK_SECONDS[0]);
    for (let n = 1; n <= LOCK_SECONDS.length; n++) {
      t.clock.advance(LOCK_SECONDS[n - 1]! * 1000);
      // Once a lock has passed, one more wrong password is judged, and locks the account again, for longer.
      await failTimes(user, 1, address);
      expect(lockedFor(await signIn(user, MEMBER_PASSWORD, address), ACCOUNT_LOCKED)).toBe(LOCK_SECONDS[Math.min(n, LOCK_SECONDS.length - 1)]);
    }
    t.clock.advance(LOCK_SECONDS.at(-1)! * 1000);
    expect(signedIn(await signIn(user, MEMBER_PASSWORD, address))).toBe(true);
    // The count and the lock history start afresh: the next wrong password is the first.
    expect(await stored(await accountKey(user))).toBeUndefined();
    await failTimes(user, 1, address);
    expect(await stored(await accountKey(user))).toMatchObject({ failures: 1, lockouts: 0, locked_until: null });
  });

  it('an unknown user name is answered as an account is: wrong password, then locked after the same count, with the same message', async () => {
    const known = await newMember();
    const unknown = 'nobody.here@contoso.test';
    const address = newAddress();
    for (let i = 0; i < ACCOUNT_LOCKOUT_THRESHOLD; i++) {
      const [a, b] = [await signIn(known, 'Wrong-Passw0rd!', address), await signIn(unknown, 'Wrong-Passw0rd!', address)];
      expect([a.statusCode, a.json().error.message, a.headers['retry-after']]).toEqual([b.statusCode, b.json().error.message, b.headers['retry-after']]);
    }
    const [a, b] = [await signIn(known, MEMBER_PASSWORD, address), await signIn(unknown, MEMBER_PASSWORD, address)];
    expect(lockedFor(a, ACCOUNT_LOCKED)).toBe(lockedFor(b, ACCOUNT_LOCKED));
    expect(a.json().error.message).toBe(b.json().error.message);
  });

  it('the sign-in name and the mail address of one account share its count', async () => {
    await createMember(t, admin, 'Dual Name', { userPrincipalName: 'dual.name@contoso.test', mail: 'dn@contoso.test' });
    const address = newAddress();
    await failTimes('dual.name@contoso.test', ACCOUNT_LOCKOUT_THRESHOLD / 2, address);
    await failTimes('DN@contoso.test', ACCOUNT_LOCKOUT_THRESHOLD / 2, address);
    lockedFor(await signIn('dual.name@contoso.test', MEMBER_PASSWORD, address), ACCOUNT_LOCKED);
  });

  it(`${ACCOUNT_LOCKOUT_THRESHOLD * 10} parallel wrong passwords for one account: exactly ${ACCOUNT_LOCKOUT_THRESHOLD} are judged, the rest are refused as locked, and the count does not overshoot`, async () => {
    const user = await newMember();
    const answers = await Promise.all(Array.from({ length: ACCOUNT_LOCKOUT_THRESHOLD * 10 }, () => signIn(user, 'Wrong-Passw0rd!', newAddress())));
    const messages = answers.map((a) => (a.json() as { error: { message: string } }).error.message);
    expect(answers.every((a) => a.statusCode === 401)).toBe(true);
    expect(messages.filter((m) => m === WRONG_LOGIN)).toHaveLength(ACCOUNT_LOCKOUT_THRESHOLD);
    expect(messages.filter((m) => ACCOUNT_LOCKED.test(m))).toHaveLength(ACCOUNT_LOCKOUT_THRESHOLD * 9);
    expect(await stored(await accountKey(user))).toMatchObject({ failures: ACCOUNT_LOCKOUT_THRESHOLD, lockouts: 1 });
    lockedFor(await signIn(user, MEMBER_PASSWORD, newAddress()), ACCOUNT_LOCKED);
  });

  it('the password step of application sign-in (OpenID Connect) counts into the same lockout and says so on its page', async () => {
    const user = await newMember();
    const address = newAddress();
    const registered = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/applications',
      payload: { displayName: 'Lockout Portal', web: { redirectUris: ['https://portal.contoso.test/callback'] } },
    });
    const query = new URLSearchParams({
      client_id: registered.json().appId,
      redirect_uri: 'https://portal.contoso.test/callback',
      response_type: 'code',
      scope: 'openid',
      state: 'st',
      nonce: 'no',
    });
    const started = await t.app.inject({ method: 'GET', url: `/oidc/authorize?${query}`, remoteAddress: address });
    const uid = /\/oidc\/interaction\/([^/?]+)/.exec(String(started.headers.location))![1]!;
    const cookies = Object.fromEntries(started.cookies.map((c) => [c.name, c.value]));
    const password = (value: string) =>
      t.app.inject({
        method: 'POST',
        url: `/oidc/interaction/${uid}/password`,
        payload: new URLSearchParams({ login: user, password: value }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.origin },
        cookies,
        remoteAddress: address,
      });
    for (let i = 0; i < ACCOUNT_LOCKOUT_THRESHOLD; i++) {
      const wrong = await password('Wrong-Passw0rd!');
      expect(wrong.statusCode).toBe(400);
      expect(wrong.body).toContain('Your account or password is incorrect.');
    }
    const locked = await password(MEMBER_PASSWORD);
    expect(locked.statusCode).toBe(400);
    expect(locked.headers['retry-after']).toBe(String(LOCK_SECONDS[0]));
    expect(locked.body).toContain(`Your account is temporarily locked to prevent unauthorized use`);
    expect(locked.body).toContain(`Try again in ${LOCK_SECONDS[0]} seconds.`);
    // The same account, locked for the API's sign-in too.
    lockedFor(await signIn(user, MEMBER_PASSWORD, newAddress()), ACCOUNT_LOCKED);
  });

  it(`parallel wrong passwords from one address, for many names: exactly ${ADDRESS_LOCKOUT_THRESHOLD} are judged, then the address is blocked for every account, and only it`, async () => {
    const sprayer = newAddress();
    const messages: string[] = [];
    // In bursts of 20, smaller than the password-check queue: the third burst straddles the threshold.
    for (let burst = 0; burst < 6; burst++) {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(`sprayed${burst}.${i}@contoso.test`, 'Spring2026!', sprayer)));
      expect(answers.every((a) => a.statusCode === 401)).toBe(true);
      messages.push(...answers.map((a) => (a.json() as { error: { message: string } }).error.message));
    }
    expect(messages.filter((m) => m === WRONG_LOGIN)).toHaveLength(ADDRESS_LOCKOUT_THRESHOLD);
    expect(messages.filter((m) => ADDRESS_LOCKED.test(m))).toHaveLength(120 - ADDRESS_LOCKOUT_THRESHOLD);
    expect(await stored(`address:${sprayer}`)).toMatchObject({ failures: ADDRESS_LOCKOUT_THRESHOLD, lockouts: 1 });

    const member = await newMember();
    expect(lockedFor(await signIn(member, MEMBER_PASSWORD, sprayer), ADDRESS_LOCKED)).toBe(LOCK_SECONDS[0]);
    expect(signedIn(await signIn(member, MEMBER_PASSWORD, newAddress()))).toBe(true);
    t.clock.advance(LOCK_SECONDS[0] * 1000);
    expect(signedIn(await signIn(member, MEMBER_PASSWORD, sprayer))).toBe(true);
  });

  it('sign-ins that succeed are not counted against their address', async () => {
    const office = newAddress();
    const member = await newMember();
    for (let i = 0; i < 3; i++) expect(signedIn(await signIn(member, MEMBER_PASSWORD, office))).toBe(true);
    await failTimes(member, 1, office);
    expect(await stored(`address:${office}`)).toMatchObject({ failures: 1 });
  });

  it('a burst of sign-ins beyond the password-check queue gets 429 with Retry-After, never a 5xx, and is not counted against anyone', async () => {
    const member = await newMember();
    const addresses = Array.from({ length: 200 }, () => newAddress());
    const answers = await Promise.all(addresses.map((address, i) => signIn(`burst${i}@contoso.test`, 'Wrong-Passw0rd!', address)));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const busy = answers.filter((a) => a.statusCode === 429);
    expect(busy.length).toBeGreaterThan(0);
    for (const res of busy) {
      expectGraphError(res, 429, 'Request_ThrottledTemporarily', /^The server is busy checking other passwords\. Try again in \d+ seconds\.$/);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Refused before the database was touched, or counted and given back: nothing stays counted.
    for (const [i, status] of statuses.entries()) {
      if (status !== 429) continue;
      expect((await stored(`name:${t.tenant.id}:burst${i}@contoso.test`))?.failures ?? 0).toBe(0);
      expect((await stored(`address:${addresses[i]}`))?.failures ?? 0).toBe(0);
    }
    // Once the burst has passed, sign-in works as before.
    expect(signedIn(await signIn(member, MEMBER_PASSWORD, newAddress()))).toBe(true);
  });
});

describe(`password hashes of older parameters (${testEngine})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('a four-lane hash still signs in, and is replaced by a one-lane hash of the same password', async () => {
    const admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    const id = await createMember(t, admin, 'Old Hash');
    const old = await argon2.hash(MEMBER_PASSWORD, { type: argon2.argon2id, memoryCost: 65_536, timeCost: 3, parallelism: 4 });
    await t.database.db.updateTable('users').set({ password_hash: old }).where('id', '=', id).execute();
    const stored = async () => (await t.database.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash!;
    await t.signIn('oldhash@contoso.test', MEMBER_PASSWORD);
    expect(await stored()).toMatch(/^\$argon2id\$v=19\$m=65536,p=1,t=3\$/);
    expect(await argon2.verify(await stored(), MEMBER_PASSWORD)).toBe(true);
    await t.signIn('oldhash@contoso.test', MEMBER_PASSWORD);
  });
});

describe('the password-check work limit', () => {
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('runs at most `concurrency` jobs at once, queues up to `maxWaiting`, refuses the rest, and runs every queued job', async () => {
    const limit = createWorkLimit(2, 3, 50);
    let running = 0;
    let most = 0;
    const job = async () => {
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
      return 'done';
    };
    const settled = Promise.allSettled(Array.from({ length: 8 }, () => limit.run(job)));
    await expect(limit.refuseWhenFull()).rejects.toMatchObject({ status: 429 });
    const results = await settled;
    expect(most).toBe(2);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(3);
    expect(refused[0]!.reason).toMatchObject({ status: 429, code: 'Request_ThrottledTemporarily' });
    expect(Number(refused[0]!.reason.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Drained: the limit takes work again, and a failing job gives its place back.
    await expect(limit.run(() => Promise.reject(new Error('argon2 failed')))).rejects.toThrow('argon2 failed');
    await limit.refuseWhenFull();
    expect(await Promise.all(Array.from({ length: 5 }, () => limit.run(job)))).toEqual(Array(5).fill('done'));
  });
});
