import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MEMBER_PASSWORD,
  call,
  createMember,
  createTestApp,
  expectGraphError,
  followPages,
  linkIn,
  outboxFor,
  testEngine,
  type Caller,
  type TestApp,
} from './helpers/test-app.js';
import { browser, codeReader, invite, pathOf, redeem, sessionCookieOf, tokenOf, wrongCode, type CodeReader } from './helpers/guest-pages.js';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';

const CONSENT = 'Review permissions';
const CODE_PAGE = 'Enter your code';

describe(`redeem links, one-time codes, sign-in and My access (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let codes: CodeReader;
  let ipSeq = 0;
  /** Each test browses from its own address, so the per-IP code limit is only met where a test means to. */
  const newBrowser = () => browser(t, `203.0.113.${++ipSeq}`);
  /** A client for reading the directory; minted per use because tests move the clock past token lifetimes. */
  const reader = async (): Promise<Caller> => ({ token: await t.clientToken(['User.Read.All', 'Group.Read.All']) });

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    codes = codeReader(t);
  });
  afterAll(() => t.close());

  const userState = async (id: string) => {
    const res = await call(t, await reader(), { method: 'GET', url: `/v1.0/users/${id}?$select=externalUserState` });
    return res.statusCode === 200 ? (res.json().externalUserState as string) : `HTTP ${res.statusCode}`;
  };

  async function createGroup(name: string): Promise<string> {
    const res = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/groups',
      payload: { displayName: name, mailNickname: name.replace(/[^A-Za-z0-9]/g, ''), mailEnabled: false, securityEnabled: true },
    });
    expect(res.statusCode).toBe(201);
    return res.json().id;
  }

  /** Invites and redeems; returns the guest's id and the session the redemption started. */
  async function acceptedGuest(email: string, extra: Record<string, unknown> = {}) {
    const inv = await invite(t, admin, email, extra);
    const cookie = await redeem(t, codes, newBrowser(), inv.inviteRedeemUrl, email);
    return { id: inv.invitedUser.id, cookie, inv };
  }

  describe('redeem links', () => {
    it('a used link shows the already-accepted page (410) with a way to sign in', async () => {
      const { inv } = await acceptedGuest('used.link@fabrikam.test');
      const b = newBrowser();
      const again = await b.get(pathOf(inv.inviteRedeemUrl));
      expect(again.statusCode).toBe(410);
      expect(again.body).toContain('This invitation has already been accepted.');
      expect(again.body).toContain('href="/signin"');
      for (const url of ['/redeem/accept', '/redeem/code', '/redeem/verify'])
        expect((await b.post(url, { t: tokenOf(inv.inviteRedeemUrl), code: '12345678' })).statusCode).toBe(410);
      expect(await codes.count('used.link@fabrikam.test')).toBe(1);
    });

    it('a tampered, truncated or missing token shows the invalid page (404) and reveals nothing about anyone', async () => {
      const inv = await invite(t, admin, 'tamara.secret@fabrikam.test', { invitedUserDisplayName: 'Tamara Secret' });
      const token = tokenOf(inv.inviteRedeemUrl);
      const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      const b = newBrowser();
      for (const url of [`/redeem?t=${tampered}`, `/redeem?t=${token.slice(0, 20)}`, `/redeem?t=${token}${token}${token}`, '/redeem', '/redeem?t=']) {
        const res = await b.get(url);
        expect(res.statusCode, url).toBe(404);
        expect(res.body).toContain('This invitation link is not valid.');
        for (const secret of ['tamara', 'Tamara Secret', 'Administrator', 'fabrikam', token]) expect(res.body, `${url} shows ${secret}`).not.toContain(secret);
      }
      for (const url of ['/redeem/accept', '/redeem/code', '/redeem/verify', '/redeem/decline', '/redeem/block'])
        expect((await b.post(url, { t: tampered, code: '12345678' })).statusCode, url).toBe(404);
      expect(await codes.count('tamara.secret@fabrikam.test')).toBe(0);
      expect(await userState(inv.invitedUser.id)).toBe('PendingAcceptance');
      // The real link still works.
      expect((await b.get(pathOf(inv.inviteRedeemUrl))).body).toContain(CONSENT);
    });

    it("another invitation's token opens that invitation only, and one guest's code does not redeem another's link", async () => {
      await createMember(t, admin, 'Hank Host');
      const host = { session: await t.signIn('hankhost@contoso.test', MEMBER_PASSWORD) };
      const a = await invite(t, admin, 'first.guest@fabrikam.test');
      const bInv = await invite(t, host, 'second.guest@northwind.test');
      const b = newBrowser();

      const pageA = await b.get(pathOf(a.inviteRedeemUrl));
      const pageB = await b.get(pathOf(bInv.inviteRedeemUrl));
      expect(pageA.body).toContain('Administrator invited you to access Contoso.');
      expect(pageB.body).toContain('Hank Host invited you to access Contoso.');
      expect(pageB.body).not.toContain('Administrator');
      const codePageA = await b.post('/redeem/accept', { t: tokenOf(a.inviteRedeemUrl) });
      expect(codePageA.body).toContain('first.guest@fabrikam.test');
      expect(codePageA.body).not.toContain('second.guest');
      const codePageB = await b.post('/redeem/accept', { t: tokenOf(bInv.inviteRedeemUrl) });
      expect(codePageB.body).toContain('second.guest@northwind.test');
      expect(codePageB.body).not.toContain('first.guest');

      const codeA = await codes.next('first.guest@fabrikam.test');
      const codeB = await codes.next('second.guest@northwind.test');
      if (codeA !== codeB) {
        const crossed = await b.post('/redeem/verify', { t: tokenOf(bInv.inviteRedeemUrl), code: codeA });
        expect(crossed.statusCode).toBe(400);
        expect(sessionCookieOf(crossed)).toBeUndefined();
      }
      expect(await userState(bInv.invitedUser.id)).toBe('PendingAcceptance');
      const done = await b.post('/redeem/verify', { t: tokenOf(a.inviteRedeemUrl), code: codeA });
      expect(done.statusCode).toBe(303);
      expect(await userState(a.invitedUser.id)).toBe('Accepted');
      expect(await userState(bInv.invitedUser.id)).toBe('PendingAcceptance');
      expect((await b.post('/redeem/verify', { t: tokenOf(bInv.inviteRedeemUrl), code: codeB })).statusCode).toBe(303);
    });

    it('a revoked link shows the withdrawn page and sends no code', async () => {
      const inv = await invite(t, admin, 'withdrawn@fabrikam.test', { groups: [] });
      expect((await call(t, admin, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/revoke` })).statusCode).toBe(200);
      const b = newBrowser();
      const res = await b.get(pathOf(inv.inviteRedeemUrl));
      expect(res.statusCode).toBe(410);
      expect(res.body).toContain('This invitation was withdrawn.');
      expect((await b.post('/redeem/accept', { t: tokenOf(inv.inviteRedeemUrl) })).statusCode).toBe(410);
      expect(await codes.count('withdrawn@fabrikam.test')).toBe(0);
    });

    it('asks for consent before a code can be used', async () => {
      const inv = await invite(t, admin, 'no.consent@fabrikam.test');
      const b = newBrowser();
      const res = await b.post('/redeem/verify', { t: tokenOf(inv.inviteRedeemUrl), code: '12345678' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/redeem?t=${tokenOf(inv.inviteRedeemUrl)}`);
      expect(await userState(inv.invitedUser.id)).toBe('PendingAcceptance');
      const consent = await b.get(pathOf(inv.inviteRedeemUrl));
      expect(consent.body).toContain(CONSENT);
      expect(consent.body).toContain('See your name');
      expect(consent.body).toContain('See your email address');
      // Looking at the consent page sends nothing.
      expect(await codes.count('no.consent@fabrikam.test')).toBe(0);
    });
  });

  describe('one-time codes', () => {
    /** A guest who has consented and holds a fresh code. */
    async function consented(email: string) {
      const inv = await invite(t, admin, email);
      const b = newBrowser();
      const token = tokenOf(inv.inviteRedeemUrl);
      const page = await b.post('/redeem/accept', { t: token });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(CODE_PAGE);
      return { inv, b, token, code: await codes.next(email) };
    }

    it('five wrong codes lock the code; a new code is needed, and works', async () => {
      const { inv, b, token, code } = await consented('fumbles@fabrikam.test');
      for (let left = 4; left >= 1; left--) {
        const res = await b.post('/redeem/verify', { t: token, code: wrongCode(code) });
        expect(res.statusCode).toBe(400);
        expect(res.body).toContain(`That code isn&#39;t right. ${left} ${left === 1 ? 'try' : 'tries'} left.`);
      }
      const fifth = await b.post('/redeem/verify', { t: token, code: wrongCode(code) });
      expect(fifth.statusCode).toBe(400);
      expect(fifth.body).toContain('Too many wrong codes. Ask for a new code.');
      const right = await b.post('/redeem/verify', { t: token, code });
      expect(right.statusCode).toBe(400);
      expect(right.body).toContain('Too many wrong codes.');
      expect(sessionCookieOf(right)).toBeUndefined();
      expect(await userState(inv.invitedUser.id)).toBe('PendingAcceptance');

      expect((await b.post('/redeem/code', { t: token })).statusCode).toBe(200);
      const fresh = await codes.next('fumbles@fabrikam.test');
      const done = await b.post('/redeem/verify', { t: token, code: fresh });
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe('https://apps.contoso.test/start');
      expect(await userState(inv.invitedUser.id)).toBe('Accepted');
    });

    it('a code expires after 30 minutes', async () => {
      const { inv, b, token, code } = await consented('slowpoke@fabrikam.test');
      t.clock.advance(29 * 60_000);
      // Still alive at 29 minutes: a wrong code counts as wrong, not expired.
      expect((await b.post('/redeem/verify', { t: token, code: wrongCode(code) })).body).toContain('4 tries left');
      t.clock.advance(60_000);
      const late = await b.post('/redeem/verify', { t: token, code });
      expect(late.statusCode).toBe(400);
      expect(late.body).toContain('That code has expired. Ask for a new code.');
      expect(await userState(inv.invitedUser.id)).toBe('PendingAcceptance');
      await b.post('/redeem/code', { t: token });
      expect((await b.post('/redeem/verify', { t: token, code: await codes.next('slowpoke@fabrikam.test') })).statusCode).toBe(303);
    });

    it('a new code kills the previous one', async () => {
      const { b, token, code: first } = await consented('two.codes@fabrikam.test');
      const page = await b.post('/redeem/code', { t: token });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(CODE_PAGE);
      const second = await codes.next('two.codes@fabrikam.test');
      if (first !== second) {
        const old = await b.post('/redeem/verify', { t: token, code: first });
        expect(old.statusCode).toBe(400);
        expect(old.body).toContain('4 tries left');
      }
      expect((await b.post('/redeem/verify', { t: token, code: second })).statusCode).toBe(303);
    });

    it('a consumed code cannot be used again', async () => {
      const email = 'once.only@fabrikam.test';
      await acceptedGuest(email);
      const b = newBrowser();
      expect((await b.post('/signin', { email })).statusCode).toBe(200);
      const code = await codes.next(email);
      const first = await b.post('/signin/verify', { email, code });
      expect(first.statusCode).toBe(303);
      expect(sessionCookieOf(first)).toBeTruthy();
      const second = await b.post('/signin/verify', { email, code });
      expect(second.statusCode).toBe(400);
      expect(sessionCookieOf(second)).toBeUndefined();
    });

    it('a sixth code request for one address within 15 minutes gets the 429 page with Retry-After; other addresses are unaffected', async () => {
      const { b, token } = await consented('impatient@fabrikam.test'); // code 1
      for (let n = 2; n <= 5; n++) expect((await b.post('/redeem/code', { t: token })).statusCode).toBe(200);
      const sixth = await b.post('/redeem/code', { t: token });
      expect(sixth.statusCode).toBe(429);
      const retryAfter = Number(sixth.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect(sixth.headers['content-type']).toContain('text/html');
      expect(sixth.body).toContain(`Too many codes were asked for. Try again in ${retryAfter} seconds.`);
      expect(await codes.count('impatient@fabrikam.test')).toBe(5);
      // The limit is per address, not per browser.
      const other = await invite(t, admin, 'patient@fabrikam.test');
      expect((await b.post('/redeem/accept', { t: tokenOf(other.inviteRedeemUrl) })).statusCode).toBe(200);
      // After the wait, codes come again.
      t.clock.advance(retryAfter * 1000);
      expect((await b.post('/redeem/code', { t: token })).statusCode).toBe(200);
      expect(await codes.count('impatient@fabrikam.test')).toBe(6);
    });

    it('limits code requests to 30 per IP address per 15 minutes, known address or not', async () => {
      const b = newBrowser();
      for (let i = 1; i <= 30; i++) expect((await b.post('/signin', { email: `prober${i}@fabrikam.test` })).statusCode, `request ${i}`).toBe(200);
      const refused = await b.post('/signin', { email: 'prober31@fabrikam.test' });
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Another IP is not affected.
      expect((await newBrowser().post('/signin', { email: 'prober31@fabrikam.test' })).statusCode).toBe(200);
    });
  });

  describe('consent is asked once', () => {
    it('a re-invited guest who already consented goes straight to the code', async () => {
      const email = 'came.back@fabrikam.test';
      const first = await invite(t, admin, email);
      const b = newBrowser();
      await b.post('/redeem/accept', { t: tokenOf(first.inviteRedeemUrl) });
      await codes.next(email); // never used
      const second = await invite(t, admin, email);
      const page = await b.get(pathOf(second.inviteRedeemUrl));
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain(CONSENT);
      // Opening the link sends nothing; the button does.
      expect(await codes.count(email)).toBe(1);
      const codePage = await b.post('/redeem/code', { t: tokenOf(second.inviteRedeemUrl) });
      expect(codePage.body).toContain(CODE_PAGE);
      const done = await b.post('/redeem/verify', { t: tokenOf(second.inviteRedeemUrl), code: await codes.next(email) });
      expect(done.statusCode).toBe(303);
      expect(await userState(first.invitedUser.id)).toBe('Accepted');
    });

    it('a guest whose redemption is reset goes straight to the code, and ends Accepted again', async () => {
      const email = 'reset.again@fabrikam.test';
      const { id } = await acceptedGuest(email);
      const res = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/invitations',
        payload: { invitedUserEmailAddress: email, inviteRedirectUrl: 'https://apps.contoso.test/again', resetRedemption: true, invitedUser: { id } },
      });
      expect(res.statusCode).toBe(201);
      expect(await userState(id)).toBe('PendingAcceptance');
      const b = newBrowser();
      const page = await b.get(pathOf(res.json().inviteRedeemUrl));
      expect(page.body).not.toContain(CONSENT);
      expect((await b.post('/redeem/code', { t: tokenOf(res.json().inviteRedeemUrl) })).body).toContain(CODE_PAGE);
      const done = await b.post('/redeem/verify', { t: tokenOf(res.json().inviteRedeemUrl), code: await codes.next(email) });
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe('https://apps.contoso.test/again');
      expect(await userState(id)).toBe('Accepted');
    });
  });

  describe('sign-in with a code and My access', () => {
    it('an accepted guest signs in at /signin with a code and /my lists their groups', async () => {
      const g1 = await createGroup('Design & <Build>');
      const g2 = await createGroup('Alpha Crew');
      const email = 'Sign.In@Fabrikam.test';
      await acceptedGuest(email, { groups: [g1, g2], invitedUserDisplayName: 'Signe Inn' });
      const b = newBrowser();
      const form = await b.get('/signin');
      expect(form.statusCode).toBe(200);
      expect(form.body).toContain('Sign in to Contoso with a code sent to your email.');

      const page = await b.post('/signin', { email: 'sign.in@fabrikam.test' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(CODE_PAGE);
      const code = await codes.next(email);
      const wrong = await b.post('/signin/verify', { email: 'sign.in@fabrikam.test', code: wrongCode(code) });
      expect(wrong.statusCode).toBe(400);
      const done = await b.post('/signin/verify', { email: 'sign.in@fabrikam.test', code });
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe('/my');
      const cookie = sessionCookieOf(done)!;

      const my = await b.get('/my', cookie);
      expect(my.statusCode).toBe(200);
      expect(my.body).toContain('You are a guest in Contoso.');
      expect(my.body).toContain('Signed in as Signe Inn (Sign.In@Fabrikam.test)');
      expect(my.body).toContain('Alpha Crew');
      expect(my.body).toContain('Design &#38; &#60;Build&#62;');
      expect(my.body).not.toContain('<Build>');
      expect(my.body.indexOf('Alpha Crew')).toBeLessThan(my.body.indexOf('Design &#38;'));
      expect((await t.app.inject({ method: 'GET', url: '/v1.0/me', cookies: { [SESSION_COOKIE]: cookie } })).json().mail).toBe(email);

      // Signing out ends the session.
      const csrf = /name="csrf" value="([^"]+)"/.exec(my.body)![1]!;
      expect((await b.post('/signout', { csrf }, cookie)).headers.location).toBe('/signin');
      expect((await b.get('/my', cookie)).headers.location).toBe('/signin');
    });

    it('an unknown or not yet accepted address gets the same pages and no mail, up to the same limit', async () => {
      const known = 'known.guest@fabrikam.test';
      const pending = 'pending.guest@fabrikam.test';
      await acceptedGuest(known);
      await invite(t, admin, pending);
      // The redemption's code counted against the address; start a fresh 15-minute window.
      t.clock.advance(15 * 60_000);
      const same = (body: string, email: string) => body.replaceAll(email, 'EMAIL');
      const b = newBrowser();
      const knownPages = [];
      for (let i = 0; i < 6; i++) knownPages.push(await b.post('/signin', { email: known }));
      for (const email of ['nobody.here@fabrikam.test', pending]) {
        for (let i = 0; i < 6; i++) {
          const res = await b.post('/signin', { email });
          expect(res.statusCode, `${email} #${i + 1}`).toBe(knownPages[i]!.statusCode);
          expect(same(res.body, email)).toBe(same(knownPages[i]!.body, known));
        }
        expect(await outboxFor(t, email)).toEqual([]);
      }
      expect(knownPages.map((p) => p.statusCode)).toEqual([200, 200, 200, 200, 200, 429]);
      expect(await codes.count(known)).toBe(5 + 1); // the redemption's code and five sign-in codes
      // Without a code nobody signs in as them.
      const res = await b.post('/signin/verify', { email: 'nobody.here@fabrikam.test', code: '12345678' });
      expect(res.statusCode).toBe(400);
      expect(sessionCookieOf(res)).toBeUndefined();
    });

    it('/my/leave with the csrf field soft-deletes the guest and ends the session; without it nothing happens', async () => {
      const group = await createGroup('Leavers');
      const email = 'leaving@fabrikam.test';
      const { id, cookie } = await acceptedGuest(email, { groups: [group] });
      const b = newBrowser();
      const my = await b.get('/my', cookie);
      expect(my.body).toContain('Leave organization');
      const csrf = /name="csrf" value="([^"]+)"/.exec(my.body)![1]!;

      for (const fields of [{}, { csrf: 'forged' }, { csrf: `${csrf}x` }] as Record<string, string>[]) {
        const res = await b.post('/my/leave', fields, cookie);
        expect(res.statusCode).toBe(303);
        expect(res.headers.location).toBe('/my');
      }
      expect(await userState(id)).toBe('Accepted');
      expect((await b.get('/my', cookie)).statusCode).toBe(200);

      const left = await b.post('/my/leave', { csrf }, cookie);
      expect(left.statusCode).toBe(200);
      expect(left.body).toContain('Your access to Contoso has ended.');
      expect(left.cookies.find((c) => c.name === SESSION_COOKIE)?.value).toBe('');

      expect(await userState(id)).toBe('HTTP 404');
      const deleted = (await followPages(t, await reader(), '/v1.0/directory/deletedItems/microsoft.graph.user')).flatMap((p) => p.value);
      expect(deleted.map((u) => u.id)).toContain(id);
      expect(deleted.find((u) => u.id === id)).toMatchObject({ deletedDateTime: t.clock.now().toISOString(), mail: email });
      const gone = await b.get('/my', cookie);
      expect(gone.statusCode).toBe(303);
      expect(gone.headers.location).toBe('/signin');
      expectGraphError(await t.app.inject({ method: 'GET', url: '/v1.0/me', cookies: { [SESSION_COOKIE]: cookie } }), 401, 'Authentication_MissingOrMalformed');
      // A deleted guest gets no sign-in code.
      await b.post('/signin', { email });
      expect(await codes.count(email)).toBe(1);
      // An administrator can bring them back, with their groups.
      expect((await call(t, admin, { method: 'POST', url: `/v1.0/directory/deletedItems/${id}/restore` })).statusCode).toBe(200);
      const memberOf = await call(t, await reader(), { method: 'GET', url: `/v1.0/users/${id}/memberOf` });
      expect(memberOf.json().value.map((g: { id: string }) => g.id)).toEqual([group]);
    });

    it('/my without a session sends the browser to /signin', async () => {
      const res = await newBrowser().get('/my');
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/signin');
      expect((await newBrowser().post('/my/leave', { csrf: 'x' })).headers.location).toBe('/signin');
    });
  });

  it('the redeem link the inviter is given cannot block the address: the block link is a token of its own, sent only in the email', async () => {
    const email = 'not.yours.to.block@fabrikam.test';
    const inv = await invite(t, admin, email, { sendInvitationMessage: true });
    const redeemToken = tokenOf(inv.inviteRedeemUrl);
    const b = newBrowser();
    expect((await b.get(`/redeem/block?t=${redeemToken}`)).statusCode).toBe(404);
    const refused = await b.post('/redeem/block', { t: redeemToken });
    expect(refused.statusCode).toBe(404);
    expect(refused.body).toContain('This invitation link is not valid.');
    // Nothing was blocked: the link still opens and the address can be invited again.
    expect((await b.get(pathOf(inv.inviteRedeemUrl))).statusCode).toBe(200);
    const again = await invite(t, admin, email, { sendInvitationMessage: true });

    const [mail] = await outboxFor(t, email);
    const blockToken = tokenOf(linkIn(mail!.text, 'http://foyer.test/redeem/block?t='));
    expect(blockToken).not.toBe(tokenOf(again.inviteRedeemUrl));
    // No answer of the API carries it: the invitation, its Foyer view, a resend.
    const views = [
      again,
      (await call(t, admin, { method: 'GET', url: `/v1.0/foyer/invitations/${again.id}` })).json(),
      (await call(t, admin, { method: 'GET', url: '/v1.0/foyer/invitations' })).json(),
    ];
    for (const view of views) expect(JSON.stringify(view)).not.toContain(blockToken);
    const resent = await call(t, admin, { method: 'POST', url: `/v1.0/foyer/invitations/${again.id}/resend` });
    expect(resent.statusCode).toBe(200);
    expect(resent.body).not.toContain(blockToken);
    // A resend issues the next link: the first email's block link is used up with its redeem link.
    expect((await b.get(`/redeem/block?t=${encodeURIComponent(blockToken)}`)).statusCode).toBe(404);
    const [newest] = await outboxFor(t, email);
    const newBlockToken = tokenOf(linkIn(newest!.text, 'http://foyer.test/redeem/block?t='));
    expect(newBlockToken).not.toBe(blockToken);
    expect((await b.get(`/redeem/block?t=${encodeURIComponent(newBlockToken)}`)).statusCode).toBe(200);
  });

  it('the block link refuses later invitations of the address with a clear 400 and ends the pending one', async () => {
    const email = 'do.not.disturb@fabrikam.test';
    const inv = await invite(t, admin, email, { sendInvitationMessage: true });
    const [mail] = await outboxFor(t, email);
    const blockLink = pathOf(linkIn(mail!.text, 'http://foyer.test/redeem/block?t='));
    const b = newBrowser();
    const confirm = await b.get(blockLink);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain(`Stop all invitations from Contoso to ${email}?`);
    // Asking is not blocking.
    expect((await b.get(pathOf(inv.inviteRedeemUrl))).statusCode).toBe(200);

    const done = await b.post('/redeem/block', { t: new URL(blockLink, 'http://foyer.test').searchParams.get('t')! });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('Done. Contoso can no longer invite this address.');
    expect((await b.get(pathOf(inv.inviteRedeemUrl))).statusCode).toBe(410);

    const client = { token: await t.clientToken(['User.Invite.All']) };
    for (const caller of [admin, client]) {
      expectGraphError(
        await call(t, caller, {
          method: 'POST',
          url: '/v1.0/invitations',
          payload: { invitedUserEmailAddress: 'Do.Not.Disturb@Fabrikam.test', inviteRedirectUrl: 'https://apps.contoso.test/' },
        }),
        400,
        'Request_BadRequest',
        "'Do.Not.Disturb@Fabrikam.test' has chosen not to receive invitations from this organization.",
      );
    }
    expect(await outboxFor(t, email)).toHaveLength(1);
  });

  // Moves the clock by a month: keep it last.
  it('an expired link shows the expired page and sends no code; old sessions have ended too', async () => {
    const { cookie } = await acceptedGuest('early.bird@fabrikam.test');
    const inv = await invite(t, admin, 'late.comer@fabrikam.test');
    t.clock.advance(30 * 86_400_000 + 1000);
    const b = newBrowser();
    const res = await b.get(pathOf(inv.inviteRedeemUrl));
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('This invitation has expired.');
    expect((await b.post('/redeem/accept', { t: tokenOf(inv.inviteRedeemUrl) })).statusCode).toBe(410);
    expect(await codes.count('late.comer@fabrikam.test')).toBe(0);
    // Sessions last 24 hours.
    expect((await b.get('/my', cookie)).headers.location).toBe('/signin');
  });
});
