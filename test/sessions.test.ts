import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';
import { createClientsService, type ClientsService } from '../src/auth/clients.service.js';
import { createAccessTokens } from '../src/auth/access-tokens.js';
import { deriveKey } from '../src/auth/secrets.js';
import {
  MEMBER_PASSWORD,
  TEST_SECRET,
  call,
  createMember,
  createTestApp,
  expectGraphError,
  testEngine,
  type Caller,
  type Session,
  type TestApp,
} from './helpers/test-app.js';

const WRONG_LOGIN = 'The user name or password is incorrect.';
const HOUR = 60 * 60 * 1000;

const signInRequest = (t: TestApp, userName: string, password: string) =>
  t.app.inject({ method: 'POST', url: '/v1.0/foyer/session', payload: { userName, password } });

/** A request carrying the session cookie, with exactly the CSRF header given (none when undefined). */
const withCookie = (t: TestApp, session: Session, options: { method: string; url: string; payload?: object; csrf?: string }) =>
  t.app.inject({
    method: options.method as 'GET',
    url: options.url,
    cookies: { [SESSION_COOKIE]: session.cookie },
    headers: options.csrf === undefined ? {} : { 'x-csrf-token': options.csrf },
    ...(options.payload ? { payload: options.payload } : {}),
  });

describe(`password sessions (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let sam: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    sam = await createMember(t, admin, 'Sam Session');
  });
  afterAll(() => t?.close());

  const me = (session: Session) => withCookie(t, session, { method: 'GET', url: '/v1.0/me' });

  describe('sign-in', () => {
    it('a wrong password and an unknown user get the same 401 and message', async () => {
      const wrong = await signInRequest(t, 'samsession@contoso.test', 'Wrong-Passw0rd!');
      const unknown = await signInRequest(t, 'nobody@contoso.test', MEMBER_PASSWORD);
      expectGraphError(wrong, 401, 'Authentication_MissingOrMalformed', WRONG_LOGIN);
      expectGraphError(unknown, 401, 'Authentication_MissingOrMalformed', WRONG_LOGIN);
      for (const res of [wrong, unknown]) expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('refuses a form-encoded sign-in, which a cross-site form could send', async () => {
      const formPost = (origin: string) =>
        t.app.inject({
          method: 'POST',
          url: '/v1.0/foyer/session',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
          payload: new URLSearchParams({ userName: 'samsession@contoso.test', password: MEMBER_PASSWORD }).toString(),
        });
      // From another site the origin check refuses it; from Foyer's own origin it is still not JSON.
      const crossSite = await formPost('https://evil.example');
      expectGraphError(crossSite, 403, 'Authorization_RequestDenied');
      const sameOrigin = await formPost('http://foyer.test');
      expectGraphError(sameOrigin, 415, 'Request_UnsupportedMediaType');
      for (const res of [crossSite, sameOrigin]) expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('an empty password is a 400, not a sign-in attempt', async () => {
      expectGraphError(await signInRequest(t, 'samsession@contoso.test', ''), 400, 'Request_BadRequest');
    });

    it('sets an HttpOnly, SameSite=Lax session cookie and answers a CSRF token that is not the cookie', async () => {
      const res = await signInRequest(t, 'SamSession@Contoso.test', MEMBER_PASSWORD);
      expect(res.statusCode).toBe(200);
      const header = [res.headers['set-cookie']].flat().find((c) => c?.startsWith(`${SESSION_COOKIE}=`));
      expect(header).toBeDefined();
      expect(header).toMatch(/;\s*HttpOnly/i);
      expect(header).toMatch(/;\s*SameSite=Lax/i);
      expect(header).toMatch(/;\s*Path=\//i);
      expect(header).toMatch(/;\s*Max-Age=86400/i);
      const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE)!;
      const body = res.json() as { csrfToken: string; user: { id: string; userType: string }; roles: unknown[] };
      expect(body.user).toMatchObject({ id: sam, userType: 'Member' });
      expect(body.roles).toEqual([]);
      expect(body.csrfToken).toEqual(expect.any(String));
      expect(body.csrfToken.length).toBeGreaterThanOrEqual(32);
      expect(body.csrfToken).not.toBe(cookie.value);
      expect(JSON.stringify(body)).not.toContain(cookie.value);
    });

    it('GET /foyer/session shows the session to its holder; without a cookie, or with an unknown one, 401', async () => {
      const session = await t.signIn('samsession@contoso.test', MEMBER_PASSWORD);
      const res = await withCookie(t, session, { method: 'GET', url: '/v1.0/foyer/session' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ user: { id: sam }, csrfToken: session.csrfToken });
      expectGraphError(await t.app.inject({ method: 'GET', url: '/v1.0/foyer/session' }), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(
        await withCookie(t, { ...session, cookie: 'forged-session-value' }, { method: 'GET', url: '/v1.0/me' }),
        401,
        'Authentication_MissingOrMalformed',
      );
      const app = { token: await t.clientToken(['User.Read.All']) };
      expectGraphError(await call(t, app, { method: 'GET', url: '/v1.0/foyer/session' }), 400, 'Request_BadRequest');
    });
  });

  describe('CSRF', () => {
    let session: Session;
    let other: Session;
    beforeAll(async () => {
      session = (admin as { session: Session }).session;
      other = await t.signIn('samsession@contoso.test', MEMBER_PASSWORD);
    });
    const jobTitle = async () => (await call(t, admin, { method: 'GET', url: `/v1.0/users/${sam}?$select=jobTitle` })).json().jobTitle as string | null;

    it('reads need no CSRF header', async () => {
      expect((await me(session)).statusCode).toBe(200);
    });

    it('writes with the cookie but without, with a wrong, or with another session’s X-CSRF-Token are refused (403) and change nothing', async () => {
      const before = await jobTitle();
      for (const csrf of [undefined, '', 'not-the-token', other.csrfToken, session.csrfToken.toUpperCase(), session.cookie]) {
        expectGraphError(
          await withCookie(t, session, { method: 'PATCH', url: `/v1.0/users/${sam}`, payload: { jobTitle: 'Forged' }, csrf }),
          403,
          'Authorization_RequestDenied',
        );
        expectGraphError(
          await withCookie(t, session, {
            method: 'POST',
            url: '/v1.0/groups',
            payload: { displayName: 'Forged', mailNickname: 'forged', mailEnabled: false, securityEnabled: true },
            csrf,
          }),
          403,
          'Authorization_RequestDenied',
        );
        expectGraphError(await withCookie(t, session, { method: 'DELETE', url: `/v1.0/users/${sam}`, csrf }), 403, 'Authorization_RequestDenied');
        expectGraphError(await withCookie(t, session, { method: 'DELETE', url: '/v1.0/foyer/session', csrf }), 403, 'Authorization_RequestDenied');
      }
      expect(await jobTitle()).toBe(before);
      expect((await me(session)).statusCode).toBe(200);
      const groups = (await call(t, admin, { method: 'GET', url: "/v1.0/groups?$filter=displayName eq 'Forged'" })).json().value;
      expect(groups).toEqual([]);
    });

    it('the right X-CSRF-Token lets the write through', async () => {
      const res = await withCookie(t, session, { method: 'PATCH', url: `/v1.0/users/${sam}`, payload: { jobTitle: 'Checked' }, csrf: session.csrfToken });
      expect(res.statusCode).toBe(204);
      expect(await jobTitle()).toBe('Checked');
    });
  });

  describe('ending sessions', () => {
    it('sign-out revokes the session: the next call is 401, and the cookie is cleared', async () => {
      const session = await t.signIn('samsession@contoso.test', MEMBER_PASSWORD);
      expect((await me(session)).statusCode).toBe(200);
      const out = await withCookie(t, session, { method: 'DELETE', url: '/v1.0/foyer/session', csrf: session.csrfToken });
      expect(out.statusCode).toBe(204);
      const cleared = out.cookies.find((c) => c.name === SESSION_COOKIE);
      expect(cleared?.value).toBe('');
      expectGraphError(await me(session), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(await withCookie(t, session, { method: 'GET', url: '/v1.0/foyer/session' }), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(
        await withCookie(t, session, { method: 'PATCH', url: `/v1.0/users/${sam}`, payload: { jobTitle: 'Ghost' }, csrf: session.csrfToken }),
        401,
        'Authentication_MissingOrMalformed',
      );
    });

    it('signing out one session leaves the user’s other sessions alone', async () => {
      const a = await t.signIn('samsession@contoso.test', MEMBER_PASSWORD);
      const b = await t.signIn('samsession@contoso.test', MEMBER_PASSWORD);
      expect((await withCookie(t, a, { method: 'DELETE', url: '/v1.0/foyer/session', csrf: a.csrfToken })).statusCode).toBe(204);
      expectGraphError(await me(a), 401, 'Authentication_MissingOrMalformed');
      expect((await me(b)).statusCode).toBe(200);
    });

    it('a deleted user’s session stops working at once, stays dead after a restore, and they cannot sign in while deleted', async () => {
      const dee = await createMember(t, admin, 'Dee Deleted');
      const session = await t.signIn('deedeleted@contoso.test', MEMBER_PASSWORD);
      expect((await me(session)).statusCode).toBe(200);
      expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${dee}` })).statusCode).toBe(204);
      expectGraphError(await me(session), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(await signInRequest(t, 'deedeleted@contoso.test', MEMBER_PASSWORD), 401, 'Authentication_MissingOrMalformed', WRONG_LOGIN);
      expect((await call(t, admin, { method: 'POST', url: `/v1.0/directory/deletedItems/${dee}/restore` })).statusCode).toBe(200);
      expectGraphError(await me(session), 401, 'Authentication_MissingOrMalformed');
    });

    it('a disabled user’s session stops working at once (PATCH accountEnabled false) and they cannot sign in', async () => {
      const dan = await createMember(t, admin, 'Dan Disabled');
      const session = await t.signIn('dandisabled@contoso.test', MEMBER_PASSWORD);
      expect((await me(session)).statusCode).toBe(200);
      expect((await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${dan}`, payload: { accountEnabled: false } })).statusCode).toBe(204);
      expectGraphError(await me(session), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(await signInRequest(t, 'dandisabled@contoso.test', MEMBER_PASSWORD), 401, 'Authentication_MissingOrMalformed', WRONG_LOGIN);
      // Enabling the account again does not bring the old session back.
      expect((await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${dan}`, payload: { accountEnabled: true } })).statusCode).toBe(204);
      expectGraphError(await me(session), 401, 'Authentication_MissingOrMalformed');
      expect((await me(await t.signIn('dandisabled@contoso.test', MEMBER_PASSWORD))).statusCode).toBe(200);
    });

    it('a session is checked against the account on every request, not only revoked when the API disables it', async () => {
      const session = await t.signIn('samsession@contoso.test', MEMBER_PASSWORD);
      await t.database.db.updateTable('users').set({ account_enabled: 0 }).where('id', '=', sam).execute();
      try {
        expectGraphError(await me(session), 401, 'Authentication_MissingOrMalformed');
      } finally {
        await t.database.db.updateTable('users').set({ account_enabled: 1 }).where('id', '=', sam).execute();
      }
    });

    it('a password change ends the user’s sessions', async () => {
      const pat = await createMember(t, admin, 'Pat Password');
      const session = await t.signIn('patpassword@contoso.test', MEMBER_PASSWORD);
      const res = await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${pat}`, payload: { passwordProfile: { password: 'Another-Passw0rd!' } } });
      expect(res.statusCode).toBe(204);
      expectGraphError(await me(session), 401, 'Authentication_MissingOrMalformed');
    });

    it('a session expires after 24 hours', async () => {
      const session = await t.signIn('samsession@contoso.test', MEMBER_PASSWORD);
      t.clock.advance(24 * HOUR - 60_000);
      expect((await me(session)).statusCode).toBe(200);
      t.clock.advance(60_000);
      expectGraphError(await me(session), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(await withCookie(t, session, { method: 'GET', url: '/v1.0/foyer/session' }), 401, 'Authentication_MissingOrMalformed');
    });
  });
});

describe(`API client tokens (${testEngine})`, () => {
  let t: TestApp;
  let client: { clientId: string; clientSecret: string };
  let clients: ClientsService;

  beforeAll(async () => {
    t = await createTestApp();
    clients = createClientsService({ db: t.database.db, clock: t.clock, secret: TEST_SECRET, commandLine: true });
    client = await clients.createClient(t.tenant.id, 'Token tester', ['User.Read.All']);
  });
  afterAll(() => t?.close());

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const tokenRequest = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth2/v2.0/token',
      payload: form(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  const valid = () => ({
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
  });
  const expectOAuthError = (res: LightMyRequestResponse, status: number, error: string) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json()).toEqual({ error, error_description: expect.any(String) });
  };
  const issue = async (fields: Record<string, string> = valid(), headers: Record<string, string> = {}) => {
    const res = await tokenRequest(fields, headers);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { access_token: string }).access_token;
  };
  const listUsers = (token: string) => call(t, { token }, { method: 'GET', url: '/v1.0/users' });

  describe('token endpoint', () => {
    it('issues a bearer token that works', async () => {
      const res = await tokenRequest(valid());
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3599, access_token: expect.any(String) });
      expect((await listUsers(res.json().access_token)).statusCode).toBe(200);
    });

    it('a wrong secret or an unknown client is 401 invalid_client', async () => {
      expectOAuthError(await tokenRequest({ ...valid(), client_secret: 'wrong' }), 401, 'invalid_client');
      expectOAuthError(await tokenRequest({ ...valid(), client_secret: client.clientSecret.slice(0, -1) }), 401, 'invalid_client');
      expectOAuthError(await tokenRequest({ ...valid(), client_id: randomUUID() }), 401, 'invalid_client');
    });

    it('a missing grant_type or credentials is 400 invalid_request', async () => {
      const { grant_type: _g, ...noGrant } = valid();
      expectOAuthError(await tokenRequest(noGrant), 400, 'invalid_request');
      const { client_secret: _s, ...noSecret } = valid();
      expectOAuthError(await tokenRequest(noSecret), 400, 'invalid_request');
    });

    it('grant_type password (or any other) is 400 unsupported_grant_type', async () => {
      expectOAuthError(
        await tokenRequest({ ...valid(), grant_type: 'password', username: 'admin@contoso.test', password: 'x' }),
        400,
        'unsupported_grant_type',
      );
      expectOAuthError(await tokenRequest({ ...valid(), grant_type: 'authorization_code' }), 400, 'unsupported_grant_type');
    });

    it('a scope other than .default is 400 invalid_scope', async () => {
      for (const scope of ['User.Read.All', 'https://graph.microsoft.com/User.Read.All', 'openid', ''])
        expectOAuthError(await tokenRequest({ ...valid(), scope }), 400, 'invalid_scope');
      const { scope: _s, ...noScope } = valid();
      expectOAuthError(await tokenRequest(noScope), 400, 'invalid_scope');
    });

    it('accepts HTTP Basic client authentication', async () => {
      const { client_id: _i, client_secret: _s, ...rest } = valid();
      const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
      const token = await issue(rest, { authorization: `Basic ${basic}` });
      expect((await listUsers(token)).statusCode).toBe(200);
      const wrong = Buffer.from(`${client.clientId}:wrong`).toString('base64');
      expectOAuthError(await tokenRequest(rest, { authorization: `Basic ${wrong}` }), 401, 'invalid_client');
    });

    it('malformed HTTP Basic credentials are a client error, not a server error', async () => {
      const { client_id: _i, client_secret: _s, ...rest } = valid();
      for (const raw of [`%E0%A4%A:${client.clientSecret}`, `${client.clientId}:%zz`]) {
        const res = await tokenRequest(rest, { authorization: `Basic ${Buffer.from(raw).toString('base64')}` });
        expectOAuthError(res, 401, 'invalid_client');
      }
    });
  });

  describe('bearer tokens', () => {
    it('no token, or a header that is not a bearer token, is 401', async () => {
      expectGraphError(await t.app.inject({ method: 'GET', url: '/v1.0/users' }), 401, 'Authentication_MissingOrMalformed');
      for (const authorization of ['Bearer', 'Bearer ', 'Token abc', `Basic ${Buffer.from('a:b').toString('base64')}`])
        expectGraphError(await t.app.inject({ method: 'GET', url: '/v1.0/users', headers: { authorization } }), 401, 'Authentication_MissingOrMalformed');
    });

    it('a tampered token is refused (401)', async () => {
      const token = await issue();
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const other = await clients.createClient(t.tenant.id, 'Other', ['Directory.ReadWrite.All']);
      const rewritten = (changes: Record<string, unknown>) => Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const tampered = [
        `${header}.${payload}.${flip(signature, 5)}`,
        `${header}.${payload}.`,
        `${header}.${rewritten({ appid: other.clientId, sub: other.clientId })}.${signature}`,
        `${header}.${rewritten({ exp: (claims.exp as number) + 86_400 })}.${signature}`,
        `${none}.${rewritten({ appid: other.clientId })}.`,
        token.slice(0, -2),
        'not.a.token',
      ];
      for (const bad of tampered) expectGraphError(await listUsers(bad), 401, 'Authentication_MissingOrMalformed');
      expect((await listUsers(token)).statusCode).toBe(200);
    });

    it('a token signed with another key, or for another audience, is refused (401)', async () => {
      const foreign = await createAccessTokens('another-secret-another-secret-another-secret').issue(
        { tenantId: t.tenant.id, clientId: client.clientId, secretVersion: 1, roles: ['User.Read.All'] },
        t.clock.now(),
      );
      expectGraphError(await listUsers(foreign), 401, 'Authentication_MissingOrMalformed');
      const iat = Math.floor(t.clock.now().getTime() / 1000);
      const otherAudience = await new SignJWT({ tid: t.tenant.id, appid: client.clientId, roles: ['User.Read.All'] })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('foyer')
        .setAudience('https://graph.microsoft.com')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 600)
        .sign(deriveKey(TEST_SECRET, 'access-token'));
      expectGraphError(await listUsers(otherAudience), 401, 'Authentication_MissingOrMalformed');
    });

    it('an access token expires after an hour', async () => {
      const token = await issue();
      t.clock.advance(HOUR - 60_000);
      expect((await listUsers(token)).statusCode).toBe(200);
      t.clock.advance(60_000);
      expectGraphError(await listUsers(token), 401, 'Authentication_MissingOrMalformed');
    });

    it('permissions are read live: revoking one takes effect for tokens already issued', async () => {
      const c = await clients.createClient(t.tenant.id, 'Shrinking', ['User.Read.All']);
      const token = await issue({ ...valid(), client_id: c.clientId, client_secret: c.clientSecret });
      expect((await listUsers(token)).statusCode).toBe(200);
      await t.database.db.updateTable('api_clients').set({ permissions: '[]' }).where('id', '=', c.clientId).execute();
      expectGraphError(await listUsers(token), 403, 'Authorization_RequestDenied');
    });

    it('a token whose client was disabled is refused, and the client gets no new token', async () => {
      const c = await clients.createClient(t.tenant.id, 'Disabled later', ['User.Read.All']);
      const fields = { ...valid(), client_id: c.clientId, client_secret: c.clientSecret };
      const token = await issue(fields);
      expect((await listUsers(token)).statusCode).toBe(200);
      await t.database.db.updateTable('api_clients').set({ disabled_at: t.clock.now().toISOString() }).where('id', '=', c.clientId).execute();
      expectGraphError(await listUsers(token), 401, 'Authentication_MissingOrMalformed');
      expectOAuthError(await tokenRequest(fields), 401, 'invalid_client');
    });

    it('a token whose client was removed is refused', async () => {
      const c = await clients.createClient(t.tenant.id, 'Removed later', ['User.Read.All']);
      const fields = { ...valid(), client_id: c.clientId, client_secret: c.clientSecret };
      const token = await issue(fields);
      expect((await listUsers(token)).statusCode).toBe(200);
      await t.database.db.deleteFrom('api_clients').where('id', '=', c.clientId).execute();
      expectGraphError(await listUsers(token), 401, 'Authentication_MissingOrMalformed');
      expectOAuthError(await tokenRequest(fields), 401, 'invalid_client');
    });
  });
});

describe(`the last enabled Global Administrator (${testEngine})`, () => {
  it('cannot be disabled or deleted, and a disabled one does not count', async () => {
    const t = await createTestApp();
    try {
      const admin: Caller = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
      const disable = await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${t.admin.id}`, payload: { accountEnabled: false } });
      expectGraphError(disable, 400, 'Request_BadRequest', 'The last enabled Global Administrator of the organization cannot be disabled.');
      // A second administrator, then disabled: the first is still the last enabled one.
      const second = await createMember(t, admin, 'Second Admin');
      const grant = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/directoryRoles/62e90394-69f5-4237-9190-012177145e10/members/$ref',
        payload: { '@odata.id': `http://foyer.test/v1.0/directoryObjects/${second}` },
      });
      expect(grant.statusCode).toBe(204);
      expect((await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${second}`, payload: { accountEnabled: false } })).statusCode).toBe(204);
      const del = await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${t.admin.id}` });
      expectGraphError(del, 400, 'Request_BadRequest', 'The last Global Administrator of the organization cannot be deleted.');
      // Re-enabled, the second one makes the first deletable.
      expect((await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${second}`, payload: { accountEnabled: true } })).statusCode).toBe(204);
      expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${t.admin.id}` })).statusCode).toBe(204);
    } finally {
      await t.close();
    }
  });
});
