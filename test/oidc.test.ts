import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';
import { call, createMember, createTestApp, MEMBER_PASSWORD, TEST_SECRET, testEngine, type Caller, type TestApp } from './helpers/test-app.js';
import { browser as injectBrowser, codeReader, redeem, type CodeReader } from './helpers/guest-pages.js';
import { freePort, httpBrowser, startRelyingParty, type HttpBrowser, type RelyingParty, type RpResult } from './helpers/oidc-rp.js';

/**
 * Single sign-on end to end: Foyer listens on a real port, a relying party built with
 * openid-client listens on another, and a browser with a cookie jar goes between them.
 */
describe(`OpenID Connect single sign-on (${testEngine})`, () => {
  let t: TestApp;
  let issuer: string;
  let admin: Caller;
  let codes: CodeReader;
  let rp: RelyingParty;
  let publicRp: RelyingParty;
  let spId: string;
  let appId: string;
  let clientSecret: string;
  let publicAppId: string;
  const readerRoleId = '2b5a2a3e-6f1c-4d7e-9a55-0f7c1f9d1a01';
  let guestCounter = 0;

  const must = async (res: Promise<{ statusCode: number; body: string }>, status: number) => {
    const r = await res;
    if (r.statusCode !== status) throw new Error(`expected ${status}, got ${r.statusCode} ${r.body}`);
    return JSON.parse(r.body || '{}') as Record<string, unknown> & { id: string };
  };

  /** Registers an application with a service principal; returns its ids. */
  async function registerApp(name: string, body: Record<string, unknown>, assignmentRequired = true) {
    const app = await must(call(t, admin, { method: 'POST', url: '/v1.0/applications', payload: { displayName: name, ...body } }), 201);
    const sp = await must(
      call(t, admin, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: app.appId, appRoleAssignmentRequired: assignmentRequired } }),
      201,
    );
    return { id: app.id, appId: app.appId as string, spId: sp.id };
  }

  /** Invites a guest (into `apps`, `groups`) and redeems the invitation; returns the guest's id and address. */
  async function redeemedGuest(extra: { apps?: string[]; groups?: string[] } = {}) {
    const email = `guest${++guestCounter}@fabrikam.test`;
    const inv = await must(
      call(t, admin, {
        method: 'POST',
        url: '/v1.0/foyer/invitations',
        payload: { invitedUserEmailAddress: email, inviteRedirectUrl: 'https://apps.contoso.test/', invitedUserDisplayName: `Guest ${guestCounter}`, ...extra },
      }),
      201,
    );
    await redeem(t, codes, injectBrowser(t, `10.1.0.${guestCounter}`), inv.inviteRedeemUrl as string, email);
    return { id: (inv.invitedUser as { id: string }).id, email };
  }

  /** A fresh browser signs in at the relying party with an emailed code; answers where it landed. */
  async function signInWithCode(b: HttpBrowser, party: RelyingParty, email: string, params = '') {
    const form = await b.go(`${party.loginUrl}${params}`);
    expect(form.status, form.body).toBe(200);
    expect(form.body).toContain('name="email"');
    const codePage = await b.submit(form, 'email', { email });
    expect(codePage.status, codePage.body).toBe(200);
    return b.submit(codePage, 'code', { code: await codes.next(email) });
  }

  const result = (page: { body: string; url: string }) => {
    expect(page.url, page.body).toContain('/callback');
    return JSON.parse(page.body) as RpResult;
  };

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await createTestApp({ baseUrl: issuer, oidcKeyCheckIntervalMs: 0 });
    await t.app.listen({ port, host: '127.0.0.1' });
    admin = { token: await t.clientToken(['Application.ReadWrite.All', 'User.ReadWrite.All', 'Group.ReadWrite.All']) };
    codes = codeReader(t);

    const rpPort = await freePort();
    const registered = await registerApp('Contoso Portal', {
      web: { redirectUris: [`http://127.0.0.1:${rpPort}/callback`], homePageUrl: `http://127.0.0.1:${rpPort}/` },
      appRoles: [{ id: readerRoleId, value: 'Reader', displayName: 'Reader', allowedMemberTypes: ['User'], isEnabled: true }],
    });
    ({ spId, appId } = registered);
    clientSecret = (await must(call(t, admin, { method: 'POST', url: `/v1.0/applications/${registered.id}/addPassword`, payload: {} }), 200))
      .secretText as string;
    rp = await startRelyingParty({ issuer, clientId: appId, clientSecret, port: rpPort });

    const publicPort = await freePort();
    publicAppId = (await registerApp('Contoso Desktop', { publicClient: { redirectUris: [`http://127.0.0.1:${publicPort}/callback`] } }, false)).appId;
    publicRp = await startRelyingParty({ issuer, clientId: publicAppId, port: publicPort });
  });

  afterAll(async () => {
    await rp?.close();
    await publicRp?.close();
    await t?.close();
  });

  it('publishes discovery with the endpoints and claims', async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const d = (await res.json()) as Record<string, unknown>;
    expect(d.issuer).toBe(issuer);
    expect(d.authorization_endpoint).toBe(`${issuer}/oidc/authorize`);
    expect(d.token_endpoint).toBe(`${issuer}/oidc/token`);
    expect(d.userinfo_endpoint).toBe(`${issuer}/oidc/userinfo`);
    expect(d.jwks_uri).toBe(`${issuer}/oidc/keys`);
    expect(d.end_session_endpoint).toBe(`${issuer}/oidc/logout`);
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.claims_supported).toEqual(expect.arrayContaining(['sub', 'email', 'name', 'tid', 'user_type', 'roles']));
  });

  it('the client credentials endpoint for API clients still works next to the provider', async () => {
    const token = await t.clientToken(['User.Read.All']);
    expect((await call(t, { token }, { method: 'GET', url: '/v1.0/users?$top=1' })).statusCode).toBe(200);
  });

  it('signs in an assigned guest end to end: ID token claims and signature, userinfo, refresh', async () => {
    const guest = await redeemedGuest({ apps: [spId] });
    await must(
      call(t, admin, {
        method: 'POST',
        url: `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo`,
        payload: { principalId: guest.id, resourceId: spId, appRoleId: readerRoleId },
      }),
      201,
    );
    const b = httpBrowser();
    const { tokens, claims, error } = result(await signInWithCode(b, rp, guest.email));
    expect(error).toBeUndefined();
    expect(claims).toMatchObject({
      iss: issuer,
      aud: appId,
      sub: guest.id,
      email: guest.email,
      name: expect.stringMatching(/^Guest /),
      tid: t.tenant.id,
      user_type: 'Guest',
      roles: ['Reader'],
    });

    const { payload, protectedHeader } = await jwtVerify(tokens!.id_token, createRemoteJWKSet(new URL(`${issuer}/oidc/keys`)), { issuer, audience: appId });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sub).toBe(guest.id);

    const info = await client.fetchUserInfo(rp.config, tokens!.access_token, guest.id);
    expect(info).toMatchObject({ sub: guest.id, email: guest.email, user_type: 'Guest', tid: t.tenant.id });

    expect(tokens!.refresh_token).toBeTruthy();
    const refreshed = await client.refreshTokenGrant(rp.config, tokens!.refresh_token!);
    expect(refreshed.claims()?.sub).toBe(guest.id);

    // The browser is signed in to Foyer now: a second sign-in asks nothing (single sign-on).
    const again = result(await b.go(rp.loginUrl));
    expect(again.claims?.sub).toBe(guest.id);
    // and My access lists the application.
    const my = await t.app.inject({ method: 'GET', url: '/my', cookies: { [SESSION_COOKIE]: b.cookie(SESSION_COOKIE)! } });
    expect(my.body).toContain('Contoso Portal');
  });

  it('members sign in with their password', async () => {
    const memberId = await createMember(t, admin, 'Mona Member');
    await must(
      call(t, admin, {
        method: 'POST',
        url: `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo`,
        payload: { principalId: memberId, resourceId: spId, appRoleId: '00000000-0000-0000-0000-000000000000' },
      }),
      201,
    );
    const b = httpBrowser();
    const form = await b.go(rp.loginUrl);
    const passwordPage = await b.submit(form, 'email', { email: 'monamember@contoso.test' });
    expect(passwordPage.body).toContain('type="password"');
    const wrong = await b.submit(passwordPage, 'password', { password: 'not-it' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('incorrect');
    const landed = result(await b.submit(passwordPage, 'password', { password: MEMBER_PASSWORD }));
    expect(landed.claims).toMatchObject({ sub: memberId, user_type: 'Member', roles: [] });
  });

  it('refuses an unassigned guest with a clear page, and the application receives access_denied', async () => {
    const guest = await redeemedGuest();
    const b = httpBrowser();
    const page = await signInWithCode(b, rp, guest.email);
    expect(page.status).toBe(403);
    expect(page.body).toContain('have access to this application');
    expect(page.body).toContain('Contoso Portal');
    const landed = result(await b.submit(page, 'deny'));
    expect(landed.error).toBe('access_denied');
    expect(landed.tokens).toBeUndefined();
  });

  it('a guest given access through a group gets in', async () => {
    const group = await must(
      call(t, admin, {
        method: 'POST',
        url: '/v1.0/groups',
        payload: { displayName: 'Partners', mailNickname: 'partners', mailEnabled: false, securityEnabled: true },
      }),
      201,
    );
    await must(
      call(t, admin, {
        method: 'POST',
        url: `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo`,
        payload: { principalId: group.id, resourceId: spId, appRoleId: readerRoleId },
      }),
      201,
    );
    const guest = await redeemedGuest({ groups: [group.id] });
    const landed = result(await signInWithCode(httpBrowser(), rp, guest.email));
    expect(landed.claims).toMatchObject({ sub: guest.id, roles: ['Reader'] });
  });

  it('a deleted guest’s refresh token fails at once; after a restore access is back', async () => {
    const guest = await redeemedGuest({ apps: [spId] });
    const { tokens } = result(await signInWithCode(httpBrowser(), rp, guest.email));
    await must(call(t, admin, { method: 'DELETE', url: `/v1.0/users/${guest.id}` }), 204);
    await expect(client.refreshTokenGrant(rp.config, tokens!.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.fetchUserInfo(rp.config, tokens!.access_token, guest.id)).rejects.toBeTruthy();

    await must(call(t, admin, { method: 'POST', url: `/v1.0/directory/deletedItems/${guest.id}/restore` }), 200);
    t.clock.advance(16 * 60 * 1000); // past the per-address code limit
    const landed = result(await signInWithCode(httpBrowser(), rp, guest.email));
    expect(landed.claims?.sub).toBe(guest.id);
  });

  it('a blocked guest (accountEnabled false) loses refresh at once', async () => {
    const guest = await redeemedGuest({ apps: [spId] });
    const { tokens } = result(await signInWithCode(httpBrowser(), rp, guest.email));
    await must(call(t, admin, { method: 'PATCH', url: `/v1.0/users/${guest.id}`, payload: { accountEnabled: false } }), 204);
    await expect(client.refreshTokenGrant(rp.config, tokens!.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('removing the assignment ends the refresh token too', async () => {
    const guest = await redeemedGuest({ apps: [spId] });
    const { tokens } = result(await signInWithCode(httpBrowser(), rp, guest.email));
    const list = await must(call(t, admin, { method: 'GET', url: `/v1.0/users/${guest.id}/appRoleAssignments` }), 200);
    const assignment = (list.value as { id: string }[])[0]!;
    await must(call(t, admin, { method: 'DELETE', url: `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo/${assignment.id}` }), 204);
    await expect(client.refreshTokenGrant(rp.config, tokens!.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  describe('standard OAuth errors', () => {
    const authorize = (params: Record<string, string>) => `${issuer}/oidc/authorize?${new URLSearchParams(params)}`;
    const tokenRequest = (form: Record<string, string>, basic?: string) =>
      fetch(`${issuer}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(basic ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {}) },
        body: new URLSearchParams(form),
      });

    /** Signs a guest in by hand (no openid-client) and answers the authorization code and the verifier it was bound to. */
    async function codeFor(verifier = client.randomPKCECodeVerifier()) {
      const guest = await redeemedGuest({ apps: [spId] });
      const b = httpBrowser();
      const form = await b.go(
        authorize({
          client_id: appId,
          response_type: 'code',
          scope: 'openid',
          redirect_uri: rp.redirectUri,
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: 'xyz',
        }),
      );
      const codePage = await b.submit(form, 'email', { email: guest.email });
      const landed = await b.submit(codePage, 'code', { code: await codes.next(guest.email) });
      const code = new URL(landed.url).searchParams.get('code');
      expect(code, landed.url).toBeTruthy();
      return { code: code!, verifier };
    }

    it('an unregistered redirect URI is refused on Foyer’s page, never redirected to (invalid_redirect_uri)', async () => {
      const page = await httpBrowser().go(
        authorize({
          client_id: appId,
          response_type: 'code',
          scope: 'openid',
          redirect_uri: 'http://127.0.0.1:1/evil',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        }),
      );
      expect(page.status).toBe(400);
      expect(page.url).toContain('/oidc/authorize');
      expect(page.body).toContain('invalid_redirect_uri');
    });

    it('a public client without PKCE is refused (invalid_request)', async () => {
      const page = await httpBrowser().go(
        authorize({ client_id: publicAppId, response_type: 'code', scope: 'openid', redirect_uri: publicRp.redirectUri, state: 's' }),
      );
      const landed = new URL(page.url);
      expect(landed.pathname).toBe('/callback');
      expect(landed.searchParams.get('error')).toBe('invalid_request');
      expect(landed.searchParams.get('error_description')).toMatch(/PKCE/);
    });

    it('a wrong code verifier is refused (invalid_grant)', async () => {
      const { code } = await codeFor();
      const res = await tokenRequest(
        { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: client.randomPKCECodeVerifier() },
        `${appId}:${clientSecret}`,
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
    });

    it('a missing code verifier is refused when a challenge was sent (invalid_grant)', async () => {
      const { code } = await codeFor();
      const res = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri }, `${appId}:${clientSecret}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/invalid_grant|invalid_request/);
    });

    it('a replayed code is refused (invalid_grant), and the tokens it gave stop working', async () => {
      const { code, verifier } = await codeFor();
      const form = { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: verifier };
      const first = await tokenRequest(form, `${appId}:${clientSecret}`);
      expect(first.status).toBe(200);
      const { access_token } = (await first.json()) as { access_token: string };
      const second = await tokenRequest(form, `${appId}:${clientSecret}`);
      expect(second.status).toBe(400);
      expect(await second.json()).toMatchObject({ error: 'invalid_grant' });
      const info = await fetch(`${issuer}/oidc/userinfo`, { headers: { authorization: `Bearer ${access_token}` } });
      expect(info.status).toBe(401);
    });

    it('a wrong client secret is refused (invalid_client, 401)', async () => {
      const { code, verifier } = await codeFor();
      const res = await tokenRequest(
        { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: verifier },
        `${appId}:wrong-secret`,
      );
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'invalid_client' });
    });
  });

  it('RP-initiated logout ends the Foyer session and returns to the application', async () => {
    const guest = await redeemedGuest({ apps: [spId] });
    const b = httpBrowser();
    const { tokens } = result(await signInWithCode(b, rp, guest.email));
    const logout = client.buildEndSessionUrl(rp.config, { id_token_hint: tokens!.id_token, post_logout_redirect_uri: rp.redirectUri });
    const confirm = await b.go(logout.href);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Sign out');
    const forms = [...confirm.body.matchAll(/<form[^>]*action="([^"]+)"[\s\S]*?<\/form>/g)];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1]!;
    const done = await b.go(new URL(forms[0]![1]!, issuer).href, { form: { xsrf, logout: 'yes' } });
    expect(done.url.startsWith(rp.redirectUri)).toBe(true);
    expect(b.cookie(SESSION_COOKIE)).toBeUndefined();
    // Signing in again asks for the code again.
    const form = await b.go(rp.loginUrl);
    expect(form.body).toContain('name="email"');
  });

  it('rotated keys: new tokens carry the new key id, tokens signed before still verify against the JWKS', async () => {
    const guest = await redeemedGuest({ apps: [spId] });
    const b = httpBrowser();
    const before = result(await signInWithCode(b, rp, guest.email)).tokens!.id_token;
    const { createSigningKeys } = await import('../src/apps/signing-keys.js');
    const kid = await createSigningKeys(t.database.db, TEST_SECRET, t.clock).rotate();
    expect(decodeProtectedHeader(before).kid).not.toBe(kid);

    const jwks = (await (await fetch(`${issuer}/oidc/keys`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([kid, decodeProtectedHeader(before).kid]);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);

    const after = result(await b.go(rp.loginUrl)).tokens!.id_token;
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    const keySet = createRemoteJWKSet(new URL(`${issuer}/oidc/keys`));
    await jwtVerify(before, keySet, { issuer, audience: appId });
    await jwtVerify(after, keySet, { issuer, audience: appId });
  });
});
