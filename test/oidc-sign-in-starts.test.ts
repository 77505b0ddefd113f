import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';
import { INTERACTION_LIFETIME_SECONDS } from '../src/apps/oidc-provider.js';
import { SIGN_IN_STARTS_PER_ADDRESS } from '../src/apps/oidc.routes.js';
import { createDeletedItemsService } from '../src/directory/deleted-items.service.js';
import { directoryJobHandlers, PURGE_DELETED_JOB } from '../src/jobs/directory-jobs.js';
import { TEST_SECRET, call, createTestApp, testEngine, type Caller, type Session, type TestApp } from './helpers/test-app.js';

// Every call to `authorize` that needs a sign-in stores an interaction row; anonymous callers must
// not be able to fill the table.
describe(`OpenID Connect sign-ins started at authorize (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let adminSession: Session;
  let clientId: string;
  let ipSeq = 0;
  const newAddress = () => `203.0.113.${++ipSeq}`;

  beforeAll(async () => {
    t = await createTestApp();
    adminSession = await t.signIn(t.admin.userPrincipalName, t.admin.password);
    admin = { session: adminSession };
    const app = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/applications',
      payload: { displayName: 'Contoso Portal', web: { redirectUris: ['https://portal.contoso.test/callback'] } },
    });
    expect(app.statusCode).toBe(201);
    clientId = app.json().appId;
    // The provider is built on first use; built once here, before the bursts.
    expect((await authorize(newAddress())).statusCode).toBe(303);
  });
  afterAll(() => t?.close());

  let stateSeq = 0;
  const authorize = (remoteAddress: string, cookie?: string) =>
    t.app.inject({
      method: 'GET',
      url: `/oidc/authorize?${new URLSearchParams({
        client_id: clientId,
        redirect_uri: 'https://portal.contoso.test/callback',
        response_type: 'code',
        scope: 'openid profile',
        state: `s${++stateSeq}`,
        nonce: `n${stateSeq}`,
      })}`,
      remoteAddress,
      cookies: cookie ? { [SESSION_COOKIE]: cookie } : {},
    });
  const storedInteractions = async () =>
    Number(
      (
        await t.database.db
          .selectFrom('oidc_payloads')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('kind', '=', 'Interaction')
          .executeTakeFirstOrThrow()
      ).n,
    );

  it(`an address without a session starts ${SIGN_IN_STARTS_PER_ADDRESS} sign-ins in five minutes, even all at once; then a clear 429 page with Retry-After, and nothing stored`, async () => {
    const before = await storedInteractions();
    const address = newAddress();
    const answers = await Promise.all(Array.from({ length: SIGN_IN_STARTS_PER_ADDRESS + 30 }, () => authorize(address)));
    const started = answers.filter((a) => a.statusCode === 303 && a.headers.location?.toString().includes('/oidc/interaction/'));
    const refused = answers.filter((a) => a.statusCode === 429);
    expect(started).toHaveLength(SIGN_IN_STARTS_PER_ADDRESS);
    expect(refused).toHaveLength(30);
    expect(refused[0]!.headers['content-type']).toContain('text/html');
    expect(refused[0]!.body).toMatch(/Too many sign-ins were started from your network\. Try again in \d+ seconds\./);
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThan(0);
    expect(await storedInteractions()).toBe(before + SIGN_IN_STARTS_PER_ADDRESS);

    // Other addresses are not affected, and the address may start again in the next window.
    expect((await authorize(newAddress())).statusCode).toBe(303);
    t.clock.advance(5 * 60_000);
    expect((await authorize(address)).statusCode).toBe(303);
  });

  it('a browser signed in to Foyer is not counted (single sign-on and silent renewal)', async () => {
    const address = newAddress();
    const answers = await Promise.all(Array.from({ length: SIGN_IN_STARTS_PER_ADDRESS + 10 }, () => authorize(address, adminSession.cookie)));
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(0);
    // A cookie that is no session counts as none.
    const forged = await Promise.all(Array.from({ length: SIGN_IN_STARTS_PER_ADDRESS + 1 }, () => authorize(address, 'not-a-session')));
    expect(forged.filter((a) => a.statusCode === 429)).toHaveLength(1);
  });

  it(`an interaction lives ${INTERACTION_LIFETIME_SECONDS / 60} minutes, and the hourly upkeep job deletes it once expired`, async () => {
    const res = await authorize(newAddress());
    const uid = /\/oidc\/interaction\/([^/?]+)/.exec(String(res.headers.location))![1]!;
    const row = await t.database.db
      .selectFrom('oidc_payloads')
      .select('expires_at')
      .where('kind', '=', 'Interaction')
      .where('id', '=', uid)
      .executeTakeFirstOrThrow();
    // oidc-provider reckons expiry by the real clock.
    const lifetime = (Date.parse(row.expires_at!) - Date.now()) / 1000;
    expect(lifetime).toBeGreaterThan(INTERACTION_LIFETIME_SECONDS - 60);
    expect(lifetime).toBeLessThanOrEqual(INTERACTION_LIFETIME_SECONDS);

    const upkeep = () => {
      const deleted = createDeletedItemsService({ db: t.database.db, engine: t.database.engine, clock: t.clock, secret: TEST_SECRET });
      const handler = directoryJobHandlers(deleted, t.database.db, t.clock)[PURGE_DELETED_JOB]!;
      return handler({ id: 'upkeep', tenantId: null, payload: {}, attempt: 1, lastAttempt: false, extendLock: async () => {} });
    };
    t.clock.set(new Date(Date.now() + (INTERACTION_LIFETIME_SECONDS - 60) * 1000));
    await upkeep();
    expect(await storedInteractions()).toBeGreaterThan(0);
    t.clock.set(new Date(Date.now() + (INTERACTION_LIFETIME_SECONDS + 1) * 1000));
    await upkeep();
    expect(await storedInteractions()).toBe(0);
  });
});

describe(`the OpenID Connect provider's first use (${testEngine})`, () => {
  it('a burst of first requests builds one provider, with one signing key', async () => {
    const t = await createTestApp();
    try {
      const answers = await Promise.all(Array.from({ length: 30 }, () => t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })));
      expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
      const keys = await t.database.db.selectFrom('oidc_signing_keys').select('kid').execute();
      expect(keys).toHaveLength(1);
      const jwksUri = new URL(answers[0]!.json().jwks_uri as string);
      const jwks = await t.app.inject({ method: 'GET', url: jwksUri.pathname });
      expect(jwks.json().keys.map((k: { kid: string }) => k.kid)).toEqual(keys.map((k) => k.kid));
    } finally {
      await t.close();
    }
  });
});
