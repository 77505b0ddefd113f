import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions, LightMyRequestResponse, RouteOptions } from 'fastify';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';
import { graphErrorStatus } from '../src/graph/errors.js';
import { call, createMember, createTestApp, MEMBER_PASSWORD, rowsIn, testEngine, type Caller, type TestApp } from './helpers/test-app.js';
import { browser, codeReader, invite, pageSession, redeem, tokenOf } from './helpers/guest-pages.js';
import { prng, type Rng } from './helpers/prng.js';
import type { Database } from '../src/db/schema.js';

/**
 * Every route a person or program can reach without a token, read from the app itself as its
 * routes are added, gets seeded random and malformed input: repeated fields, arrays and objects,
 * missing and oversized values, control characters, bad percent-encoding, wrong content types,
 * multipart without a boundary, empty bodies. Every answer must be a result or a 4xx (never a 5xx),
 * and nothing may be left half-written. The uploads (signed in) get the same treatment.
 * Set FOYER_FUZZ_SEED to replay a failing run.
 */

const SEED = Number(process.env.FOYER_FUZZ_SEED ?? 20261206);
const REQUESTS_PER_ROUTE = 60;
const EVIL = 'https://evil.example';
const closedCodes = new Set(Object.keys(graphErrorStatus));
const oauthErrors = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']);

interface AnonymousRoute {
  method: string;
  url: string;
  config: Record<string, unknown>;
  /** The fields its body and query schemas name: the generator favours them, so input reaches the route's code. */
  fields: string[];
}
const keyOf = (method: string, url: string) => `${method} ${url}`;

/** Strings that have broken parsers elsewhere: empty, huge, controls, odd Unicode, syntax of other languages. */
const hostileText = [
  '',
  ' ',
  'x',
  '0',
  '-1',
  '1e309',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  "' or 1=1 --",
  '%',
  '%25',
  '%00',
  'a\u0000b',
  '\r\nSet-Cookie: x=1',
  '\t\v\f',
  '\u202e\u200b',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'é',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'x'.repeat(5000),
  '\uffff',
  'a@b',
  'guest@fabrikam.test',
  '12345678',
];
/** Percent-encodings that are not valid: a lone %, a bad hex digit, a cut or overlong UTF-8 sequence. */
const badEncodings = ['%', '%Z', '%ZZ', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', '%%', '%u0041'];
/** Session cookies that name no session (a cookie value cannot hold spaces, commas, semicolons or controls). */
const junkCookies = ['x', 'null', '%00', 'a.b.c', '__proto__', '{}', 'x'.repeat(5000)];
/** The field names the pages, the token endpoint and the session sign-in read, and some they do not. */
const fieldNames = [
  't',
  'code',
  'email',
  'csrf',
  'login',
  'password',
  'grant_type',
  'client_id',
  'client_secret',
  'scope',
  'userName',
  'lang',
  'item',
  'channel',
  'preview',
];
const junkNames = ['', '__proto__', 'constructor[prototype]', 'a[b]', 'a.b', 'x'.repeat(300), '%00', 'email[]'];

/** An id in the shape of Foyer's ids that names nothing. */
const unknownId = (r: Rng) => `0192f0c4-${r.int(9000) + 1000}-7000-8000-${String(r.int(1e12)).padStart(12, '0')}`;

/** Text as a URL carries it: percent-encoded, with lone surrogates (which cannot be encoded) replaced. */
const encode = (v: string) => encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));

describe(`random input to every route anyone can reach (${testEngine})`, () => {
  let t: TestApp;
  const routes: AnonymousRoute[] = [];
  const hits = new Map<string, number>();
  let admin: Caller;
  /** Valid values the generator mixes in, so random input also reaches the code behind the lookups. */
  const valid: Record<string, string[]> = {
    t: [],
    id: [],
    driveId: [],
    token: [],
    uid: [],
    tenant: [],
    csrf: [],
    item: [],
    channel: [],
    email: [],
    code: ['12345678'],
  };
  let guestCookie: string;
  let interactionCookies: Record<string, string> = {};
  const problems: string[] = [];

  /** Records each route a caller can reach without a token, and counts the requests routed to it. */
  function onRoute(route: RouteOptions) {
    const config = (route.config ?? {}) as Record<string, unknown>;
    if (config.anonymous !== true || config.ownAuthentication === true) return;
    const schema = (route.schema ?? {}) as { body?: { properties?: object }; querystring?: { properties?: object } };
    const fields = [...Object.keys(schema.body?.properties ?? {}), ...Object.keys(schema.querystring?.properties ?? {})];
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, config, fields });
    const count = async (request: { routeOptions: { method: string | string[]; url?: string } }) => {
      const key = keyOf(String(request.routeOptions.method), request.routeOptions.url ?? '');
      hits.set(key, (hits.get(key) ?? 0) + 1);
    };
    route.onResponse = [...[route.onResponse ?? []].flat(), count] as RouteOptions['onResponse'];
  }

  /** Tables no request without a token may add to, whatever it sends. */
  const untouchable: (keyof Database)[] = [
    'users',
    'invitations',
    'sessions',
    'groups',
    'group_memberships',
    'teams',
    'channels',
    'chat_messages',
    'drive_items',
    'sharing_links',
    'api_clients',
    'applications',
    'bulk_invitations',
    'role_assignments',
  ];
  const before: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestApp({ onRoute });
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    valid.tenant!.push(t.tenant.id, 'common', 'organizations', 'contoso.test');

    // A team with a guest in it, its library, a meeting, a shared file and a site.
    await createMember(t, admin, 'Olga Owner');
    const owner = { session: await t.signIn('olgaowner@contoso.test', MEMBER_PASSWORD) };
    const team = await call(t, owner, { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Fuzz team' } });
    expect(team.statusCode, team.body).toBe(202);
    const teamId = team.json().id as string;
    const codes = codeReader(t);
    const guestInvite = await invite(t, admin, 'fuzz.guest@fabrikam.test');
    guestCookie = await redeem(t, codes, browser(t, '192.0.2.200'), guestInvite.inviteRedeemUrl, 'fuzz.guest@fabrikam.test');
    const guestId = guestInvite.invitedUser.id;
    const member = await call(t, owner, {
      method: 'POST',
      url: `/v1.0/teams/${teamId}/members`,
      payload: { 'user@odata.bind': `https://graph.microsoft.com/v1.0/users('${guestId}')` },
    });
    expect(member.statusCode, member.body).toBe(201);
    valid.csrf!.push((await pageSession(t, guestCookie)).csrfToken);
    const channels = (await call(t, owner, { method: 'GET', url: `/v1.0/teams/${teamId}/channels` })).json().value as { id: string }[];
    const drive = (await call(t, owner, { method: 'GET', url: `/v1.0/groups/${teamId}/drive` })).json().id as string;
    const file = await call(t, owner, {
      method: 'PUT',
      url: `/v1.0/drives/${drive}/root:/notes.txt:/content`,
      payload: 'notes',
      headers: { 'content-type': 'text/plain' },
    });
    expect(file.statusCode, file.body).toBe(201);
    const link = await call(t, owner, {
      method: 'POST',
      url: `/v1.0/drives/${drive}/items/${file.json().id}/createLink`,
      payload: { type: 'view', scope: 'anonymous' },
    });
    if (link.statusCode === 201) valid.token!.push(String(link.json().link.webUrl).split('/s/')[1]!);
    const meeting = await call(t, owner, {
      method: 'POST',
      url: '/v1.0/me/onlineMeetings',
      payload: {
        subject: 'Fuzz meeting',
        startDateTime: '2026-11-02T10:00:00Z',
        endDateTime: '2026-11-02T11:00:00Z',
        participants: { attendees: [{ identity: { user: { id: guestId } } }] },
      },
    });
    expect(meeting.statusCode, meeting.body).toBe(201);
    const site = await call(t, admin, { method: 'POST', url: '/v1.0/sites', payload: { displayName: 'Fuzz site' } });
    valid.id!.push(teamId, meeting.json().id, site.json().id);
    valid.driveId!.push(drive);
    valid.item!.push(file.json().id, 'root');
    valid.channel!.push(...channels.map((c) => c.id));
    valid.email!.push('fuzz.guest@fabrikam.test', 'olgaowner@contoso.test');
    // A pending invitation, whose link the pages look up.
    valid.t!.push(tokenOf((await invite(t, admin, 'fuzz.pending@fabrikam.test')).inviteRedeemUrl));

    // An application's sign-in in progress: its interaction id and the browser's cookies for it.
    const app = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/applications',
      payload: { displayName: 'Fuzz app', web: { redirectUris: ['https://app.contoso.test/cb'] } },
    });
    await call(t, admin, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: app.json().appId } });
    const query = new URLSearchParams({
      client_id: app.json().appId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://app.contoso.test/cb',
      state: 's',
      nonce: 'n',
    });
    const authorize = await t.app.inject({ method: 'GET', url: `/oidc/authorize?${query}` });
    interactionCookies = Object.fromEntries(authorize.cookies.map((c) => [c.name, c.value]));
    valid.uid!.push(String(authorize.headers.location).split('/').pop()!);

    for (const table of untouchable) before[table] = await rowsIn(t, table);
  });
  afterAll(() => t?.close());

  /** A value for a path parameter: a real id now and then, else something odd. */
  function pathValue(r: Rng, name: string): string {
    const real = valid[name] ?? valid.id!;
    if (real.length && r.chance(0.45)) return encode(r.pick(real));
    if (r.chance(0.15)) return r.pick(badEncodings);
    if (r.chance(0.05)) return 'x'.repeat(1100);
    return r.chance(0.5) ? encode(r.pick(hostileText)) : unknownId(r);
  }

  function fillPath(r: Rng, url: string): string {
    return url
      .replace(/:([A-Za-z]+)/g, (_m, name: string) => pathValue(r, name) || 'x')
      .replace(/\*$/, () =>
        Array.from({ length: 1 + r.int(3) }, () =>
          r.chance(0.2) ? r.pick(badEncodings) : encode(r.pick(['assets', 'index.html', 'v1.0', 'users', 'x', '..', ...hostileText])),
        ).join('/'),
      );
  }

  /** One value of a field: often a real one for its name, else hostile text, encoded or not. */
  function fieldValue(r: Rng, name: string): string {
    const real = valid[name];
    if (real?.length && r.chance(0.5)) return encode(r.pick(real));
    if (r.chance(0.1)) return r.pick(badEncodings);
    return encode(r.pick(hostileText));
  }

  /** `a=1&a=2&b=...`: the route's own fields above all, other and junk names, some repeated, some without `=`. */
  function formText(r: Rng, own: string[]): string {
    const pairs: string[] = [];
    for (let i = 0, n = 1 + r.int(5); i < n; i++) {
      const name = own.length && r.chance(0.7) ? r.pick(own) : r.chance(0.85) ? r.pick(fieldNames) : r.pick(junkNames);
      const times = r.chance(0.15) ? 2 + r.int(3) : 1;
      for (let k = 0; k < times; k++) pairs.push(r.chance(0.05) ? encode(name) : `${encode(name)}=${fieldValue(r, name)}`);
    }
    return pairs.join(r.chance(0.05) ? ';' : '&');
  }

  function jsonValue(r: Rng, depth = 0): unknown {
    const kind = r.int(depth > 2 ? 5 : 8);
    if (kind === 0) return r.pick(hostileText);
    if (kind === 1) return r.int(1e9) * (r.chance(0.5) ? -1 : 1);
    if (kind === 2) return r.chance(0.5);
    if (kind === 3) return null;
    if (kind === 4) return r.pick(valid.t!.concat(valid.email!, valid.csrf!, hostileText));
    if (kind === 5) return Array.from({ length: r.int(4) }, () => jsonValue(r, depth + 1));
    return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick([...fieldNames, ...junkNames]), jsonValue(r, depth + 1)]));
  }

  /** A body and its content type, of every shape a form post, a script or an attacker might send. */
  function randomBody(r: Rng, own: string[]): { payload?: string | Buffer; type?: string } {
    switch (r.int(14)) {
      case 0:
      case 1:
      case 2:
      case 11:
      case 12:
      case 13:
        return {
          payload: formText(r, own),
          type: r.pick(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8', 'APPLICATION/X-WWW-FORM-URLENCODED']),
        };
      case 3: {
        const value = r.chance(0.8) ? Object.fromEntries([...own, ...fieldNames].filter(() => r.chance(0.3)).map((n) => [n, jsonValue(r)])) : jsonValue(r);
        return { payload: JSON.stringify(value), type: 'application/json' };
      }
      case 4:
        return { payload: r.pick(['{', '{"email":', '[1,2', 'nul', '"\\u00"', '{"__proto__":{"x":1}}']), type: 'application/json' };
      case 5:
        return { payload: formText(r, own), type: 'text/plain' };
      case 6:
        return {
          payload: `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${r.pick(hostileText)}\r\n--x--\r\n`,
          type: r.pick(['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=x', 'multipart/mixed; boundary=x']),
        };
      case 7:
        return {
          payload: Buffer.from(Array.from({ length: r.int(64) }, () => r.int(256))),
          type: r.pick(['application/octet-stream', 'image/png', 'application/xml']),
        };
      case 8:
        return r.chance(0.5) ? {} : { payload: '', type: r.pick(['application/x-www-form-urlencoded', 'application/json', 'text/plain']) };
      case 9:
        return { payload: `email=${'a'.repeat(1024 * 1024 + 10)}`, type: 'application/x-www-form-urlencoded' };
      default:
        return {
          payload: formText(r, own),
          type: r.pick(['application/x-www-form-urlencoded; charset=utf-16', 'text/html', 'application/x-www-form-urlencoded;;']),
        };
    }
  }

  function randomRequest(r: Rng, route: AnonymousRoute): InjectOptions & { url: string } {
    const query = r.chance(route.method === 'GET' ? 0.7 : 0.3) ? `?${formText(r, route.fields)}` : '';
    const headers: Record<string, string> = {};
    // Mostly as Foyer's own page posts, so the input reaches the route's code rather than the origin check.
    const origin = r.chance(0.85) ? t.origin : r.pick([EVIL, 'null', '']);
    if (origin) headers.origin = origin;
    if (r.chance(0.1)) headers.referer = r.pick([`${t.origin}/signin`, `${EVIL}/x`, 'not a url']);
    if (r.chance(0.2)) headers['sec-fetch-site'] = r.pick(['same-origin', 'cross-site', 'same-site', 'none', 'garbage']);
    if (r.chance(0.7)) headers.accept = r.pick(['text/html', 'application/json', '*/*', 'text/html;q=0']);
    if (r.chance(0.2)) headers['accept-language'] = r.pick(['nl', 'en-US,en;q=0.9', '*', 'x'.repeat(300), ';;;']);
    if (r.chance(0.1))
      headers.authorization = r.pick([
        'Bearer',
        'Bearer x.y.z',
        'Basic !!!',
        `Basic ${Buffer.from('%ZZ:x').toString('base64')}`,
        `Basic ${Buffer.from(':').toString('base64')}`,
        'Negotiate x',
      ]);
    headers['x-forwarded-for'] = r.chance(0.9) ? `198.51.100.${r.int(250)}` : r.pick(['', 'not an address', '::1, ::ffff:1.2.3.4', '300.1.1.1']);
    const cookies: Record<string, string> = {};
    if (r.chance(0.4)) cookies[SESSION_COOKIE] = r.chance(0.7) ? guestCookie : r.pick(junkCookies);
    if (route.url.startsWith('/oidc/interaction') && r.chance(0.7)) Object.assign(cookies, interactionCookies);
    const options: InjectOptions & { url: string } = { method: route.method as InjectOptions['method'], url: fillPath(r, route.url) + query, headers, cookies };
    if (route.method === 'POST' || r.chance(0.05)) {
      const body = randomBody(r, route.fields);
      if (body.type) headers['content-type'] = body.type;
      if (body.payload !== undefined) options.payload = body.payload;
    }
    return options;
  }

  /** What is wrong with an answer, if anything: a 5xx, or an error in a shape of its own. */
  function check(res: LightMyRequestResponse, route: AnonymousRoute): string | null {
    if (res.statusCode >= 500) return `${res.statusCode}: ${res.body.slice(0, 300)}`;
    if (res.statusCode < 400 || !String(res.headers['content-type']).startsWith('application/json') || route.method === 'HEAD') return null;
    let body: { error?: { code?: string } | string };
    try {
      body = res.json();
    } catch {
      return `error that is not JSON: ${res.body.slice(0, 200)}`;
    }
    if (route.url.endsWith('/oauth2/v2.0/token') && typeof body.error === 'string') return oauthErrors.has(body.error) ? null : `OAuth error ${body.error}`;
    const code = typeof body.error === 'object' ? body.error?.code : undefined;
    if (!code || !closedCodes.has(code)) return `error outside Graph's envelope: ${res.body.slice(0, 200)}`;
    return null;
  }

  it('enumerates the routes from the app, the pages and the token endpoint among them', () => {
    const keys = routes.map((r) => keyOf(r.method, r.url));
    for (const expected of [
      'POST /signin/verify',
      'POST /redeem/verify',
      'POST /oauth2/v2.0/token',
      'POST /oidc/interaction/:uid/code',
      'GET /s/:token',
      'POST /meet/:id/join',
    ])
      expect(keys).toContain(expected);
    expect(keys.some((k) => k.includes('/oidc/*') || k.includes('/.well-known/'))).toBe(false);
  });

  it('answers every request with a result or a 4xx, and every route is reached', async () => {
    const r = prng(SEED);
    // The routes that can end the guest's session go last, so the others also see a signed-in guest.
    const endsSession = (route: AnonymousRoute) => route.url === '/my/leave' || route.url === '/signout';
    for (const route of [...routes.filter((x) => !endsSession(x)), ...routes.filter(endsSession)])
      for (let i = 0; i < REQUESTS_PER_ROUTE; i++) {
        const request = randomRequest(r, route);
        const res = await t.app.inject(request);
        const problem = check(res, route);
        if (problem)
          problems.push(`${route.method} ${request.url.slice(0, 200)} [${String((request.headers as Record<string, string>)['content-type'])}]: ${problem}`);
      }
    expect(problems.slice(0, 20)).toEqual([]);
    // A route the generator does not reach (its parameters never match, say) would go untested: it fails here instead.
    const unreached = routes.map((route) => keyOf(route.method, route.url)).filter((key) => (hits.get(key) ?? 0) < REQUESTS_PER_ROUTE / 4);
    expect(unreached).toEqual([]);
  }, 600_000);

  it('refuses a cross-site form post on every route but the token endpoint', async () => {
    for (const route of routes.filter((x) => x.method === 'POST')) {
      const res = await t.app.inject({
        method: 'POST',
        url: route.url.replace(/:([A-Za-z]+)/g, (_m, name: string) => encode((valid[name] ?? valid.id!)[0]!)),
        headers: { origin: EVIL, 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
        payload: `t=${encode(valid.t![0]!)}&email=fuzz.guest%40fabrikam.test&code=12345678&csrf=${encode(valid.csrf![0]!)}`,
      });
      if (route.config.acceptsCrossSitePosts === true) expect(res.statusCode, route.url).not.toBe(403);
      else expect(res.statusCode, `${route.url}: ${res.body.slice(0, 200)}`).toBe(403);
    }
  });

  it('leaves nothing half-written', async () => {
    // No request without a token made a user, an invitation, a session (no code was guessed), a team, a file or a client.
    for (const table of untouchable) expect(await rowsIn(t, table), table).toBe(before[table]);
    // A guest who left did so completely: deleted, every session ended.
    const left = await t.database.db.selectFrom('users').select('id').where('deleted_at', 'is not', null).execute();
    for (const { id } of left) {
      const live = await t.database.db.selectFrom('sessions').select('token_hash').where('user_id', '=', id).where('revoked_at', 'is', null).execute();
      expect(live, `sessions of ${id}`).toEqual([]);
    }
    // A blocked address has no pending invitation left.
    const blocked = await t.database.db.selectFrom('blocked_invitees').select('email_lower').execute();
    for (const { email_lower } of blocked) {
      const pending = await t.database.db
        .selectFrom('invitations')
        .select('id')
        .where('invited_email_lower', '=', email_lower)
        .where('status', '=', 'PendingAcceptance')
        .execute();
      expect(pending, email_lower).toEqual([]);
    }
  });
});

describe(`random uploads (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let drive: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    const site = await call(t, admin, { method: 'POST', url: '/v1.0/sites', payload: { displayName: 'Uploads' } });
    expect(site.statusCode, site.body).toBe(201);
    drive = (await call(t, admin, { method: 'GET', url: `/v1.0/sites/${site.json().id}/drive` })).json().id;
  });
  afterAll(() => t?.close());

  const bulkCount = async () => (await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' })).json().value.length as number;

  function multipart(r: Rng): { payload: string; type: string } {
    const boundary = r.pick(['x', 'b0und4ry', '----WebKitFormBoundary7MA4YWxkTrZu0gW', '', 'x'.repeat(80), 'a b', '"quoted"']);
    const csv = r.pick([
      'email\r\nfuzz1@fabrikam.test\r\n',
      '',
      'email,sendEmail\r\n"unterminated\r\n',
      '\u0000\u0001',
      'email\r\n' + 'x@y.test\r\n'.repeat(50),
      '\ufeff',
    ]);
    const parts = [
      r.chance(0.8)
        ? `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${r.pick(['a.csv', '', '../x.csv', '%00.csv', 'ü.csv'])}"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n`
        : '',
      r.chance(0.5)
        ? `--${boundary}\r\nContent-Disposition: form-data; name="${r.pick(['redirectUrl', 'language', 'groups', 'validateOnly', 'x'])}"\r\n\r\n${r.pick(hostileText)}\r\n`
        : '',
      r.chance(0.2) ? `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.csv"\r\n\r\nemail\r\n` : '',
      r.chance(0.8) ? `--${boundary}--\r\n` : '',
    ];
    const truncate = r.chance(0.2) ? r.int(80) : undefined;
    const body = parts.join('');
    return {
      payload: truncate === undefined ? body : body.slice(0, truncate),
      type: r.pick([
        `multipart/form-data; boundary=${boundary}`,
        'multipart/form-data',
        `multipart/form-data; boundary="${boundary}"`,
        `multipart/form-data; charset=utf-8; boundary=${boundary}`,
      ]),
    };
  }

  it('answers every malformed bulk upload with a 4xx and makes an upload only when it answers 202', async () => {
    const r = prng(SEED + 1);
    const start = await bulkCount();
    let accepted = 0;
    const problems: string[] = [];
    for (let i = 0; i < 150; i++) {
      const { payload, type } = multipart(r);
      const query = r.chance(0.3) ? `?validateOnly=${r.pick(['true', 'false', 'x'])}` : '';
      const res = await call(t, admin, { method: 'POST', url: `/v1.0/foyer/bulkInvitations${query}`, payload, headers: { 'content-type': type } });
      if (res.statusCode >= 500) problems.push(`${type} ${JSON.stringify(payload.slice(0, 120))}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (res.statusCode === 202) accepted++;
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(await bulkCount()).toBe(start + accepted);
  }, 300_000);

  it('answers every odd file name and content type with a result or a 4xx, and stores a file only when it says so', async () => {
    const r = prng(SEED + 2);
    const items = () => rowsIn(t, 'drive_items', ['drive_id', drive]);
    const start = await items();
    let created = 0;
    const problems: string[] = [];
    for (let i = 0; i < 150; i++) {
      const name = r.chance(0.7)
        ? encode(r.pick(hostileText)) + r.pick(['', '.txt', '.csv'])
        : r.pick([...badEncodings, '%2F', '%2E%2E', '.', '..', 'a%3Ab', 'x'.repeat(1100)]);
      const url = r.chance(0.8)
        ? `/v1.0/drives/${drive}/root:/${name}:/content`
        : `/v1.0/drives/${drive}/${r.pick(['items/x/content', `items/${name}:/y:/content`, 'root:/:/content', name])}`;
      const res = await call(t, admin, {
        method: 'PUT',
        url,
        payload: r.chance(0.9) ? Buffer.from(r.pick(hostileText)) : '',
        headers: {
          'content-type':
            r.pick(['text/plain', 'multipart/form-data', 'application/json', 'application/x-www-form-urlencoded', 'image/svg+xml', '']) || 'text/plain',
        },
      });
      if (res.statusCode >= 500) problems.push(`${url.slice(0, 200)}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (res.statusCode === 201) created++;
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(await items()).toBe(start + created);
  }, 300_000);
});
