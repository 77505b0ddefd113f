import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, rowsIn, testEngine, type Caller, type TestApp } from './helpers/test-app.js';
import { browser, codeReader, invite, redeem, sessionCookieOf, tokenOf, type CodeReader } from './helpers/guest-pages.js';

const EVIL = 'https://evil.example';
/** What a browser sends with a form that a page of another site submits to Foyer. */
const crossSite = { origin: EVIL, referer: `${EVIL}/login-as-me.html`, 'sec-fetch-site': 'cross-site', accept: 'text/html,application/xhtml+xml' };

/**
 * Login CSRF: a page of another site posts Foyer's sign-in forms with the attacker's own code, so
 * that the victim's browser ends up signed in as the attacker. Form posts are accepted only from
 * Foyer's own pages.
 */
describe(`forms posted from other sites (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let codes: CodeReader;
  let ip = 0;
  const newBrowser = () => browser(t, `192.0.2.${++ip}`);
  const sessionCount = () => rowsIn(t, 'sessions');

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    codes = codeReader(t);
  });
  afterAll(() => t.close());

  const expectRefusedPage = (res: LightMyRequestResponse) => {
    expect(res.statusCode, res.body).toBe(403);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('only from its own pages');
    expect(sessionCookieOf(res)).toBeUndefined();
  };

  it('a cross-site post of the attacker’s own sign-in code is refused, starts no session, and leaves the code unused', async () => {
    const attacker = 'mallory@fabrikam.test';
    const inv = await invite(t, admin, attacker);
    await redeem(t, codes, newBrowser(), inv.inviteRedeemUrl, attacker);
    const own = newBrowser();
    expect((await own.post('/signin', { email: attacker })).statusCode).toBe(200);
    const code = await codes.next(attacker);

    const sessions = await sessionCount();
    const victim = newBrowser();
    expectRefusedPage(await victim.post('/signin/verify', { email: attacker, code }, undefined, crossSite));
    expect(await sessionCount()).toBe(sessions);
    // The code was not even looked at: the attacker's own browser still signs in with it.
    const done = await own.post('/signin/verify', { email: attacker, code });
    expect(done.statusCode).toBe(303);
    expect(sessionCookieOf(done)).toBeDefined();
  });

  it('a cross-site post to /redeem/verify with the attacker’s invitation and code is refused and redeems nothing', async () => {
    const attacker = 'mallory.redeem@fabrikam.test';
    const inv = await invite(t, admin, attacker);
    const own = newBrowser();
    expect((await own.post('/redeem/accept', { t: tokenOf(inv.inviteRedeemUrl) })).statusCode).toBe(200);
    const code = await codes.next(attacker);

    const sessions = await sessionCount();
    expectRefusedPage(await newBrowser().post('/redeem/verify', { t: tokenOf(inv.inviteRedeemUrl), code }, undefined, crossSite));
    expect(await sessionCount()).toBe(sessions);
    const invitation = await t.database.db.selectFrom('invitations').select('status').where('id', '=', inv.id).executeTakeFirstOrThrow();
    expect(invitation.status).toBe('PendingAcceptance');
  });

  it('judges by Origin, by Referer when Origin is absent, and by Sec-Fetch-Site', async () => {
    const b = newBrowser();
    const post = (headers: Record<string, string | undefined>) => b.post('/signin', { email: 'nobody@fabrikam.test' }, undefined, headers);
    // Same origin, as Foyer's own page posts it: the form is answered.
    expect((await post({})).statusCode).toBe(200);
    expect((await post({ origin: 'http://foyer.test', 'sec-fetch-site': 'same-origin' })).statusCode).toBe(200);
    expect((await post({ origin: undefined, referer: 'http://foyer.test/signin?lang=nl' })).statusCode).toBe(200);
    // Another origin, however it is said.
    expectRefusedPage(await post({ origin: EVIL }));
    expectRefusedPage(await post({ origin: 'http://foyer.test.evil.example' }));
    expectRefusedPage(await post({ origin: 'https://foyer.test' }));
    expectRefusedPage(await post({ origin: undefined, referer: `${EVIL}/x` }));
    expectRefusedPage(await post({ origin: undefined, referer: 'not a url' }));
    expectRefusedPage(await post({ 'sec-fetch-site': 'cross-site' }));
    expectRefusedPage(await post({ 'sec-fetch-site': 'same-site' }));
    // An opaque origin (a sandboxed frame, a data: page) proves nothing by itself; the browser's own word that it is the same origin does.
    expectRefusedPage(await post({ origin: 'null' }));
    expect((await post({ origin: 'null', 'sec-fetch-site': 'same-origin' })).statusCode).toBe(200);
    // Neither Origin nor Referer nor Fetch metadata: refused, as OWASP recommends (every current browser sends Origin with a POST).
    expectRefusedPage(await post({ origin: undefined }));
  });

  it('refuses with Graph’s envelope when the caller does not ask for a page', async () => {
    const res = await newBrowser().post('/signin', { email: 'nobody@fabrikam.test' }, undefined, { origin: EVIL, accept: 'application/json' });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'Authorization_RequestDenied', message: expect.stringContaining("'https://evil.example'") });
  });

  it('covers every form of the guest pages and the sign-in pages of applications', async () => {
    for (const url of [
      '/redeem/accept',
      '/redeem/code',
      '/redeem/decline',
      '/redeem/block',
      '/signin',
      '/my/leave',
      '/signout',
      '/meet/0192f0c4-0000-7000-8000-000000000000/join',
      '/oidc/interaction/abc/email',
      '/oidc/interaction/abc/code',
      '/oidc/interaction/abc/password',
      '/oidc/interaction/abc/abort',
    ])
      expectRefusedPage(await newBrowser().post(url, { t: 'x', email: 'a@b.test', code: '1', csrf: 'x' }, undefined, crossSite));
  });

  it('leaves the token endpoint open to programs, which post forms without an Origin', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth2/v2.0/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: EVIL },
      payload: 'grant_type=client_credentials&client_id=x&client_secret=y&scope=.default',
    });
    expect(res.statusCode).toBe(401);
  });

  it('without FOYER_BASE_URL the page’s own host is the origin', async () => {
    const local = await createTestApp({ baseUrl: null, trustProxy: false });
    try {
      const post = (headers: Record<string, string>) =>
        local.app.inject({
          method: 'POST',
          url: '/signin',
          headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'guests.contoso.test:8080', accept: 'text/html', ...headers },
          payload: 'email=nobody%40fabrikam.test',
        });
      expect((await post({ origin: 'http://guests.contoso.test:8080' })).statusCode).toBe(200);
      expect((await post({ origin: 'http://guests.contoso.test' })).statusCode).toBe(403);
      // A forwarded host from an untrusted peer does not make another site's origin ours.
      expect((await post({ origin: EVIL, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' })).statusCode).toBe(403);
    } finally {
      await local.close();
    }
  });
});
