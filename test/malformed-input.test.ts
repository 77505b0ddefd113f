import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { call, createTestApp, rowsIn, testEngine, type Caller, type TestApp } from './helpers/test-app.js';
import { invite, sessionCookieOf, tokenOf } from './helpers/guest-pages.js';

/**
 * Input that is not what a form, a token request or an upload should be gets a clear 4xx: a page
 * where a browser posted a page's form, OAuth's error at the token endpoint, Graph's envelope
 * elsewhere. Never a 500, and nothing is written.
 */
describe(`malformed input (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let redeemToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    redeemToken = tokenOf((await invite(t, admin, 'form.guest@fabrikam.test')).inviteRedeemUrl);
  });
  afterAll(() => t.close());

  const browserHeaders = { origin: 'http://foyer.test', accept: 'text/html', 'x-forwarded-for': '192.0.2.80' };
  /** Posts a raw body to a page as a browser on Foyer's origin would. */
  const postPage = (url: string, payload: string, type = 'application/x-www-form-urlencoded', cookies: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, payload, headers: { ...browserHeaders, 'content-type': type }, cookies });
  const expectBadPage = (res: LightMyRequestResponse, what: string) => {
    expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, what).toBeLessThan(500);
    expect(res.headers['content-type'], what).toBe('text/html; charset=utf-8');
    expect(sessionCookieOf(res), what).toBeUndefined();
  };

  describe('form fields of the guest pages', () => {
    it('a repeated field is a 400 page', async () => {
      for (const [url, body] of [
        ['/redeem/accept', `t=${redeemToken}&t=${redeemToken}`],
        ['/redeem/code', `t=${redeemToken}&t=x`],
        ['/redeem/verify', `t=${redeemToken}&code=12345678&code=87654321`],
        ['/redeem/decline', 't=a&t=b'],
        ['/redeem/block', 't=a&t=b'],
        ['/signin', 'email=a%40fabrikam.test&email=b%40fabrikam.test'],
        ['/signin/verify', 'email=a%40fabrikam.test&email=b%40fabrikam.test&code=1'],
        ['/signin/verify', 'email=a%40fabrikam.test&code=1&code=2'],
        ['/my/leave', 'csrf=a&csrf=b'],
        ['/signout', 'csrf=a&csrf=b'],
      ]) {
        const res = await postPage(url!, body!);
        expectBadPage(res, `${url} ${body}`);
        expect(res.statusCode, `${url} ${body}`).toBe(400);
      }
    });

    it('a field that is not a string is a 400 page', async () => {
      for (const [url, body] of [
        ['/redeem/accept', { t: ['a', 'b'] }],
        ['/redeem/verify', { t: redeemToken, code: 12345678 }],
        ['/signin', { email: { $ne: '' } }],
        ['/signin', { email: null }],
        ['/signin/verify', { email: 'a@fabrikam.test', code: true }],
      ] as const)
        expectBadPage(await postPage(url, JSON.stringify(body), 'application/json'), `${url} ${JSON.stringify(body)}`);
    });

    it('a field with control characters or over its length is a 400 page, and nothing is sent', async () => {
      const mails = () => rowsIn(t, 'mail_messages');
      const before = await mails();
      for (const body of ['email=a%00b%40fabrikam.test', 'email=a%0d%0aBcc%3a%20x%40evil.test%40fabrikam.test', `email=${'a'.repeat(400)}%40fabrikam.test`])
        expectBadPage(await postPage('/signin', body), body);
      expect(await mails()).toBe(before);
    });

    it('a missing body or one of another type is a 4xx page', async () => {
      expectBadPage(await t.app.inject({ method: 'POST', url: '/signin', headers: browserHeaders }), 'no body');
      expectBadPage(await postPage('/signin', 'email=a@fabrikam.test', 'text/plain'), 'text/plain');
      expectBadPage(await postPage('/signin', '--x\r\n', 'multipart/form-data'), 'multipart without boundary');
    });

    it('a repeated query value of a page is a 4xx page, not a 500', async () => {
      for (const url of [`/redeem?t=${redeemToken}&t=x`, '/redeem/block?t=a&t=b', '/redeem?t=a&lang=nl&lang=en'])
        expectBadPage(await t.app.inject({ method: 'GET', url, headers: browserHeaders }), url);
    });
  });

  describe('sign-in pages of applications (OpenID Connect interactions)', () => {
    /** Starts an authorization request as an application's browser would; answers the interaction page's path and its cookies. */
    async function interaction(): Promise<{ path: string; cookies: Record<string, string> }> {
      const app = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/applications',
        payload: { displayName: `Forms ${Math.random()}`, web: { redirectUris: ['https://app.contoso.test/callback'] } },
      });
      expect(app.statusCode, app.body).toBe(201);
      const sp = await call(t, admin, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: app.json().appId } });
      expect(sp.statusCode, sp.body).toBe(201);
      const query = new URLSearchParams({
        client_id: app.json().appId,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: 'https://app.contoso.test/callback',
        state: 'state-1',
        nonce: 'nonce-1',
      });
      const auth = await t.app.inject({ method: 'GET', url: `/oidc/authorize?${query}` });
      expect(auth.statusCode, auth.body).toBeGreaterThanOrEqual(300);
      const location = String(auth.headers.location);
      const cookies = Object.fromEntries(auth.cookies.map((c) => [c.name, c.value]));
      return { path: new URL(location, 'http://foyer.test').pathname, cookies };
    }

    it('repeated or non-string fields are a 400 page at every step', async () => {
      const it_ = await interaction();
      const page = await t.app.inject({ method: 'GET', url: it_.path, cookies: it_.cookies, headers: browserHeaders });
      expect(page.statusCode, page.body).toBe(200);
      for (const [step, body, type] of [
        ['email', 'email=a%40fabrikam.test&email=b%40fabrikam.test', 'application/x-www-form-urlencoded'],
        ['email', JSON.stringify({ email: ['a@fabrikam.test'] }), 'application/json'],
        ['code', 'email=a%40fabrikam.test&code=1&code=2', 'application/x-www-form-urlencoded'],
        ['code', JSON.stringify({ email: { a: 1 }, code: '1' }), 'application/json'],
        ['password', 'login=admin%40contoso.test&login=x&password=y', 'application/x-www-form-urlencoded'],
        ['password', JSON.stringify({ login: 'admin@contoso.test', password: 42 }), 'application/json'],
      ] as const) {
        const res = await postPage(`${it_.path}/${step}`, body, type, it_.cookies);
        expectBadPage(res, `${step} ${body}`);
        expect(res.statusCode, `${step} ${body}`).toBe(400);
      }
      // The interaction is still usable after the bad posts.
      expect((await postPage(`${it_.path}/email`, 'email=new.person%40fabrikam.test', undefined, it_.cookies)).statusCode).toBe(200);
    });
  });

  describe('the token endpoint', () => {
    const token = (payload: string, type = 'application/x-www-form-urlencoded') =>
      t.app.inject({ method: 'POST', url: '/oauth2/v2.0/token', payload, headers: { 'content-type': type } });
    const expectInvalidRequest = (res: LightMyRequestResponse, what: string) => {
      expect(res.statusCode, `${what}: ${res.body}`).toBe(400);
      expect(res.json(), what).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    };

    it('a repeated or non-string parameter is 400 invalid_request', async () => {
      const valid = 'grant_type=client_credentials&client_secret=s&scope=.default';
      expectInvalidRequest(await token(`${valid}&client_id=a&client_id=b`), 'repeated client_id');
      expectInvalidRequest(await token(`client_id=a&client_secret=s&scope=.default&grant_type=client_credentials&grant_type=password`), 'repeated grant_type');
      expectInvalidRequest(await token(`client_id=a&${valid}&scope=x`), 'repeated scope');
      expectInvalidRequest(
        await token(JSON.stringify({ grant_type: 'client_credentials', client_id: { $gt: '' }, client_secret: 's', scope: '.default' }), 'application/json'),
        'object client_id',
      );
      expectInvalidRequest(
        await token(JSON.stringify({ grant_type: 'client_credentials', client_id: 7, client_secret: 's', scope: '.default' }), 'application/json'),
        'number client_id',
      );
      expectInvalidRequest(await token(`client_id=a%00b&${valid}`), 'NUL in client_id');
      expectInvalidRequest(await token(''), 'empty body');
    });
  });

  describe('uploads', () => {
    let drive: string;
    beforeAll(async () => {
      const site = await call(t, admin, { method: 'POST', url: '/v1.0/sites', payload: { displayName: 'Upload site' } });
      expect(site.statusCode, site.body).toBe(201);
      drive = (await call(t, admin, { method: 'GET', url: `/v1.0/sites/${site.json().id}/drive` })).json().id;
    });
    const put = (name: string) =>
      call(t, admin, { method: 'PUT', url: `/v1.0/drives/${drive}/root:/${name}:/content`, payload: 'content', headers: { 'content-type': 'text/plain' } });

    it('keeps a file name with % as it was sent, decoded once', async () => {
      for (const [encoded, stored] of [
        ['100%25%20done.txt', '100% done.txt'],
        ['%2541.txt', '%41.txt'],
        ['a%252Fb.txt', 'a%2Fb.txt'],
        ['%E2%82%AC.txt', '€.txt'],
      ]) {
        const res = await put(encoded!);
        expect(res.statusCode, `${encoded}: ${res.body}`).toBe(201);
        expect(res.json().name).toBe(stored);
      }
    });

    it('stores a file named like a property of every object as an ordinary file', async () => {
      for (const name of ['__proto__', 'constructor', 'x.constructor', 'x.__proto__']) {
        const res = await put(name);
        expect(res.statusCode, `${name}: ${res.body}`).toBe(201);
        expect(res.json()).toMatchObject({ name, file: { mimeType: 'application/octet-stream' } });
      }
    });

    it('refuses a name that is not a single file name', async () => {
      for (const encoded of ['a%2Fb.txt', '%2F', '%00.txt']) expect((await put(encoded)).statusCode, encoded).toBe(400);
    });

    it('a multipart upload without a boundary is a 4xx and makes no upload', async () => {
      const uploads = async () => (await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' })).json().value.length as number;
      const before = await uploads();
      for (const type of ['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; charset=utf-8', 'multipart/mixed']) {
        const res = await call(t, admin, {
          method: 'POST',
          url: '/v1.0/foyer/bulkInvitations',
          payload: '--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nemail\r\na@b.test\r\n--x--\r\n',
          headers: { 'content-type': type },
        });
        expect(res.statusCode, `${type}: ${res.body}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, type).toBeLessThan(500);
        expect(res.json().error.code, type).toMatch(/^Request_/);
      }
      expect(await uploads()).toBe(before);
    });
  });
});
