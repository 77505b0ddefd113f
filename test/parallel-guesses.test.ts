import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOneTimeCodes, MAX_WRONG_CODES, type CodeCheck } from '../src/auth/one-time-codes.js';
import { mailJobHandlers, SEND_MAIL_JOB } from '../src/mail/mail-queue.js';
import { TEST_SECRET, call, createTestApp, testEngine, type Caller, type TestApp } from './helpers/test-app.js';
import { browser, invite, sessionCookieOf, tokenOf, wrongCode } from './helpers/guest-pages.js';

// Hundreds of guesses at once: a counter that is read and then written back lets every one of them
// be judged (on PostgreSQL most of all, where the requests run on several connections).
const BURST = 300;

describe(`counters hold under parallel guesses (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let ipSeq = 0;
  const newBrowser = () => browser(t, `198.51.100.${++ipSeq}`);
  const codes = () => createOneTimeCodes(TEST_SECRET, t.clock);

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
  });
  afterAll(() => t?.close());

  /** The live code's counter as stored. */
  const storedAttempts = async (userId: string) =>
    (
      await t.database.db
        .selectFrom('one_time_codes')
        .select('failed_attempts')
        .where('user_id', '=', userId)
        .where('consumed_at', 'is', null)
        .executeTakeFirstOrThrow()
    ).failed_attempts;

  /** A fresh code for the user, issued the way the pages issue one (earlier codes stop working). */
  const freshCode = (userId: string) => codes().issue(t.database.db, t.tenant.id, userId);

  /** Counts the "N tries left" answers of a burst of code pages, by N. */
  function triesLeft(bodies: string[]): number[] {
    return bodies.flatMap((b) => {
      const m = /That code isn&#39;t right\. (\d+) tr(?:y|ies) left\./.exec(b);
      return m ? [Number(m[1])] : [];
    });
  }

  /** A guest who consented on the redeem page and whose invitation is still pending. */
  async function consentedGuest(email: string) {
    const inv = await invite(t, admin, email);
    const b = newBrowser();
    const token = tokenOf(inv.inviteRedeemUrl);
    expect((await b.post('/redeem/accept', { t: token })).statusCode).toBe(200);
    return { userId: inv.invitedUser.id, b, token };
  }

  it(`${BURST} parallel wrong codes straight to verify: ${MAX_WRONG_CODES} are judged, the rest find the code locked, and so does the right one`, async () => {
    const { userId } = await consentedGuest('burst.direct@fabrikam.test');
    const code = await freshCode(userId);
    const results: CodeCheck[] = await Promise.all(Array.from({ length: BURST }, () => codes().verify(t.database.db, userId, wrongCode(code))));
    const judged = results.filter((r) => !r.ok && r.reason === 'wrong');
    // Each judged guess took its own slot: 4, 3, 2, 1 tries left, then the fifth locked the code.
    expect(judged.map((r) => (r as { attemptsLeft: number }).attemptsLeft).sort()).toEqual([1, 2, 3, 4].slice(0, MAX_WRONG_CODES - 1));
    expect(results.filter((r) => !r.ok && r.reason === 'locked')).toHaveLength(BURST - judged.length);
    expect(await storedAttempts(userId)).toBe(MAX_WRONG_CODES);
    expect(await codes().verify(t.database.db, userId, code)).toEqual({ ok: false, reason: 'locked' });
  });

  it(`${BURST} parallel wrong codes at /redeem/verify: at most ${MAX_WRONG_CODES} are judged, and the right code afterwards does not redeem`, async () => {
    const { userId, b, token } = await consentedGuest('burst.redeem@fabrikam.test');
    const code = await freshCode(userId);
    const answers = await Promise.all(Array.from({ length: BURST }, () => b.post('/redeem/verify', { t: token, code: wrongCode(code) })));
    expect(answers.map((a) => a.statusCode).filter((s) => s !== 400)).toEqual([]);
    expect(triesLeft(answers.map((a) => a.body)).sort()).toEqual([1, 2, 3, 4]);
    expect(await storedAttempts(userId)).toBe(MAX_WRONG_CODES);

    const right = await b.post('/redeem/verify', { t: token, code });
    expect(right.statusCode).toBe(400);
    expect(right.body).toContain('Too many wrong codes.');
    expect(sessionCookieOf(right)).toBeUndefined();
    const state = await call(t, admin, { method: 'GET', url: `/v1.0/users/${userId}?$select=externalUserState` });
    expect(state.json().externalUserState).toBe('PendingAcceptance');
  });

  it(`${BURST} parallel wrong codes at /signin/verify: at most ${MAX_WRONG_CODES} are judged, and the right code afterwards does not sign in`, async () => {
    const email = 'burst.signin@fabrikam.test';
    const { userId, b, token } = await consentedGuest(email);
    expect((await b.post('/redeem/verify', { t: token, code: await freshCode(userId) })).statusCode).toBe(303);

    const code = await freshCode(userId);
    const answers = await Promise.all(Array.from({ length: BURST }, () => b.post('/signin/verify', { email, code: wrongCode(code) })));
    expect(answers.map((a) => a.statusCode).filter((s) => s !== 400)).toEqual([]);
    expect(triesLeft(answers.map((a) => a.body)).sort()).toEqual([1, 2, 3, 4]);
    expect(await storedAttempts(userId)).toBe(MAX_WRONG_CODES);

    const right = await b.post('/signin/verify', { email, code });
    expect(right.statusCode).toBe(400);
    expect(right.body).toContain('Too many wrong codes.');
    expect(sessionCookieOf(right)).toBeUndefined();
  });

  it('parallel resends each count once: every one gets its own link and the stored count matches', async () => {
    const inv = await invite(t, admin, 'resend.burst@fabrikam.test');
    const before = (await call(t, admin, { method: 'GET', url: `/v1.0/foyer/invitations/${inv.id}` })).json().sendCount as number;
    const n = 25;
    const answers = await Promise.all(Array.from({ length: n }, () => call(t, admin, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/resend` })));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(n).fill(200));
    const bodies = answers.map((a) => a.json() as { sendCount: number; inviteRedeemUrl: string });
    expect(bodies.map((b) => b.sendCount).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => before + i + 1));
    expect(new Set(bodies.map((b) => b.inviteRedeemUrl)).size).toBe(n);
    const after = (await call(t, admin, { method: 'GET', url: `/v1.0/foyer/invitations/${inv.id}` })).json().sendCount;
    expect(after).toBe(before + n);
  });

  it('100 parallel code requests for one address send exactly 5 codes; the others get 429 with Retry-After', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => newBrowser().post('/signin', { email: 'not.a.guest@fabrikam.test' })));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(95);
    expect(answers.find((a) => a.statusCode === 429)!.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('100 parallel code requests from one client address get exactly 30 through', async () => {
    const b = newBrowser();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => b.post('/signin', { email: `sprayed${i}@fabrikam.test` })));
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(30);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(70);
  });

  it('parallel deliveries of one email count every attempt', async () => {
    await call(t, admin, {
      method: 'POST',
      url: '/v1.0/invitations',
      payload: { invitedUserEmailAddress: 'bounces@fabrikam.test', inviteRedirectUrl: 'https://apps.contoso.test', sendInvitationMessage: true },
    });
    const mail = await t.database.db
      .selectFrom('mail_messages')
      .select(['id', 'tenant_id'])
      .where('to_addresses', 'like', '%bounces@fabrikam.test%')
      .executeTakeFirstOrThrow();
    const refusing = { kind: 'smtp' as const, send: () => Promise.reject(new Error('421 try again later')), close() {} };
    const deliver = mailJobHandlers(t.database.db, refusing, t.clock)[SEND_MAIL_JOB]!;
    const job = { id: 'job', tenantId: mail.tenant_id, payload: { mailId: mail.id }, attempt: 1, lastAttempt: false, extendLock: async () => {} };
    const runs = await Promise.allSettled(Array.from({ length: 20 }, () => deliver(job)));
    expect(runs.every((r) => r.status === 'rejected')).toBe(true);
    const stored = await t.database.db.selectFrom('mail_messages').select('attempts').where('id', '=', mail.id).executeTakeFirstOrThrow();
    expect(stored.attempts).toBe(20);
  });
});

describe(`the invitation rate limit holds under parallel invitations (${testEngine})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ invitesPerMinute: 10 });
  });
  afterAll(() => t?.close());

  it('40 parallel invitations by one client: exactly 10 are made, 30 get 429, and only 10 guests exist', async () => {
    const caller = { token: await t.clientToken(['User.Invite.All', 'User.Read.All']) };
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(t, caller, {
          method: 'POST',
          url: '/v1.0/invitations',
          payload: { invitedUserEmailAddress: `flood${i}@fabrikam.test`, inviteRedirectUrl: 'https://apps.contoso.test' },
        }),
      ),
    );
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(10);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(30);
    const guests = await t.database.db.selectFrom('users').select('id').where('user_type', '=', 'Guest').execute();
    expect(guests).toHaveLength(10);
  });
});
