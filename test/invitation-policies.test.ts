import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MEMBER_PASSWORD,
  call,
  createMember,
  createTestApp,
  expectGraphError,
  followPages,
  testEngine,
  type Caller,
  type TestApp,
} from './helpers/test-app.js';
import { applicationPermissions } from '../src/auth/permissions.js';
import { browser, codeReader, invite, pageSession, pathOf, redeem, tokenOf, type CodeReader } from './helpers/guest-pages.js';

const USER_ADMIN = 'fe930be7-5e62-47db-91af-98c3a49a38b1';
const GUEST_INVITER = '95e79109-95c0-4d8e-aee3-d01accf2d47b';
const REDIRECT = 'https://apps.contoso.test/start';
const NOT_ALLOWED = 'Guest invitations not allowed for your company.';

type Who = 'globalAdmin' | 'userAdmin' | 'guestInviter' | 'member' | 'guest' | 'client';
type AllowInvitesFrom = 'none' | 'adminsAndGuestInviters' | 'adminsGuestInvitersAndAllMembers' | 'everyone';

/** Who may invite under each allowInvitesFrom value (201), everyone else 403. */
const allowed: Record<AllowInvitesFrom, Who[]> = {
  none: [],
  adminsAndGuestInviters: ['globalAdmin', 'userAdmin', 'guestInviter', 'client'],
  adminsGuestInvitersAndAllMembers: ['globalAdmin', 'userAdmin', 'guestInviter', 'client', 'member'],
  everyone: ['globalAdmin', 'userAdmin', 'guestInviter', 'client', 'member', 'guest'],
};

async function assignRole(t: TestApp, admin: Caller, roleId: string, userId: string) {
  const res = await call(t, admin, {
    method: 'POST',
    url: `/v1.0/directoryRoles/${roleId}/members/$ref`,
    payload: { '@odata.id': `http://foyer.test/v1.0/directoryObjects/${userId}` },
  });
  expect(res.statusCode).toBe(204);
}

describe(`who may invite, which domains, how often, and who reads the outbox (${testEngine})`, () => {
  let t: TestApp;
  let codes: CodeReader;
  const callers = {} as Record<Who, Caller>;
  let reader: Caller;

  beforeAll(async () => {
    t = await createTestApp();
    codes = codeReader(t);
    callers.globalAdmin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    const admin = callers.globalAdmin;
    const ua = await createMember(t, admin, 'Uma Useradmin');
    await assignRole(t, admin, USER_ADMIN, ua);
    callers.userAdmin = { session: await t.signIn('umauseradmin@contoso.test', MEMBER_PASSWORD) };
    const gi = await createMember(t, admin, 'Gus Inviter');
    await assignRole(t, admin, GUEST_INVITER, gi);
    callers.guestInviter = { session: await t.signIn('gusinviter@contoso.test', MEMBER_PASSWORD) };
    await createMember(t, admin, 'Pia Plain');
    callers.member = { session: await t.signIn('piaplain@contoso.test', MEMBER_PASSWORD) };
    callers.client = { token: await t.clientToken(['User.Invite.All']) };
    // A guest who redeemed an invitation, with the session the redemption started.
    const inv = await invite(t, admin, 'accepted.guest@fabrikam.test');
    const cookie = await redeem(t, codes, browser(t, '192.0.2.1'), inv.inviteRedeemUrl, 'accepted.guest@fabrikam.test');
    callers.guest = { session: await pageSession(t, cookie) };
    reader = { token: await t.clientToken(['User.Read.All']) };
  });
  afterAll(() => t.close());

  const admin = () => callers.globalAdmin;
  const post = (caller: Caller, email: string, url = '/v1.0/invitations') =>
    call(t, caller, { method: 'POST', url, payload: { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT } });
  const setAllowInvitesFrom = async (value: AllowInvitesFrom) =>
    expect((await call(t, admin(), { method: 'PATCH', url: '/v1.0/policies/authorizationPolicy', payload: { allowInvitesFrom: value } })).statusCode).toBe(204);
  const usersWithMail = async (mail: string) =>
    (await followPages(t, reader, `/v1.0/users?$filter=${encodeURIComponent(`mail eq '${mail}'`)}&$select=id`)).flatMap((p) => p.value);

  describe('allowInvitesFrom', () => {
    afterAll(() => setAllowInvitesFrom('everyone'));

    it('the guest used here is an accepted guest', async () => {
      const me = await call(t, callers.guest, { method: 'GET', url: '/v1.0/me?$select=userType,externalUserState' });
      expect(me.json()).toMatchObject({ userType: 'Guest', externalUserState: 'Accepted' });
    });

    for (const policy of ['none', 'adminsAndGuestInviters', 'adminsGuestInvitersAndAllMembers', 'everyone'] as const) {
      it(`${policy}: ${allowed[policy].join(', ') || 'nobody'} may invite; everyone else gets 403`, async () => {
        await setAllowInvitesFrom(policy);
        const outcome: Record<string, number> = {};
        for (const who of Object.keys(callers) as Who[]) {
          const email = `${policy.toLowerCase()}.${who.toLowerCase()}@fabrikam.test`;
          const res = await post(callers[who], email);
          outcome[who] = res.statusCode;
          if (res.statusCode === 403) {
            expectGraphError(res, 403, 'Authorization_RequestDenied', NOT_ALLOWED);
            expect(await usersWithMail(email), `${who} wrote a user`).toEqual([]);
          }
          // Foyer's endpoint follows the same policy.
          const foyer = await post(callers[who], `foyer.${email}`, '/v1.0/foyer/invitations');
          expect(foyer.statusCode, `${who} on /v1.0/foyer/invitations`).toBe(res.statusCode);
        }
        const expected = Object.fromEntries((Object.keys(callers) as Who[]).map((who) => [who, allowed[policy].includes(who) ? 201 : 403]));
        expect(outcome).toEqual(expected);
      });
    }

    it('a client without an invite permission is refused whatever the policy', async () => {
      const client = { token: await t.clientToken(['User.Read.All', 'Group.ReadWrite.All']) };
      expectGraphError(await post(client, 'by.reader@fabrikam.test'), 403, 'Authorization_RequestDenied');
      for (const permission of ['User.ReadWrite.All', 'Directory.ReadWrite.All']) {
        const res = await post({ token: await t.clientToken([permission]) }, `by.${permission.toLowerCase()}@fabrikam.test`);
        expect(res.statusCode, permission).toBe(201);
      }
    });
  });

  describe('a guest who may invite', () => {
    beforeAll(() => setAllowInvitesFrom('everyone'));
    afterAll(() => setAllowInvitesFrom('everyone'));
    const sponsorsOf = async (userId: string) =>
      (await t.database.db.selectFrom('user_sponsors').select('sponsor_id').where('user_id', '=', userId).execute()).map((r) => r.sponsor_id);

    it('sees an existing guest as it would see a new one, and does not become its sponsor', async () => {
      const existing = await invite(t, admin(), 'kept.private@northwind.test', { invitedUserDisplayName: 'Private Name' });
      const sponsorsBefore = await sponsorsOf(existing.invitedUser.id);
      const fresh = await post(callers.guest, 'brand.new@northwind.test');
      const again = await post(callers.guest, 'kept.private@northwind.test');
      expect(fresh.statusCode).toBe(201);
      expect(again.statusCode).toBe(201);
      expect(again.json()).toMatchObject({ invitedUserDisplayName: 'kept.private', invitedUserType: 'Guest', invitedUserSponsors: [] });
      expect(again.json().invitedUser.userPrincipalName).toBe('kept.private_northwind.test#EXT#@contoso.test');
      expect(fresh.json()).toMatchObject({ invitedUserDisplayName: 'brand.new', invitedUserType: 'Guest', invitedUserSponsors: [] });
      expect(Object.keys(again.json()).sort()).toEqual(Object.keys(fresh.json()).sort());
      expect(JSON.stringify(again.json())).not.toContain('Private Name');
      expect(await sponsorsOf(existing.invitedUser.id)).toEqual(sponsorsBefore);
      expect(await sponsorsOf(fresh.json().invitedUser.id)).toEqual([]);
      // What the directory holds is unchanged.
      const stored = await call(t, reader, { method: 'GET', url: `/v1.0/users/${existing.invitedUser.id}?$select=displayName` });
      expect(stored.json().displayName).toBe('Private Name');
    });

    it('is not told that an address belongs to a member, and cannot name sponsors', async () => {
      const res = await post(callers.guest, 'piaplain@contoso.test');
      expectGraphError(res, 400, 'Request_BadRequest', "'piaplain@contoso.test' cannot be invited.");
      const named = await call(t, callers.guest, {
        method: 'POST',
        url: '/v1.0/invitations',
        payload: { invitedUserEmailAddress: 'sponsored@northwind.test', inviteRedirectUrl: REDIRECT, invitedUserSponsors: [{ id: t.admin.id }] },
      });
      expectGraphError(named, 403, 'Authorization_RequestDenied', 'Guests cannot choose sponsors.');
      expect(await usersWithMail('sponsored@northwind.test')).toEqual([]);
    });
  });

  describe('collaboration policy (domains)', () => {
    const policyUrl = '/v1.0/foyer/policies/collaboration';
    const getPolicy = async () => {
      const res = await call(t, admin(), { method: 'GET', url: policyUrl });
      expect(res.statusCode).toBe(200);
      const { mode, domains } = res.json();
      return { mode, domains };
    };
    const patch = (body: Record<string, unknown>, caller: Caller = admin()) => call(t, caller, { method: 'PATCH', url: policyUrl, payload: body });
    const blocked = (domain: string) => `Invitations to '${domain}' are blocked by your organization's external collaboration settings.`;
    afterAll(async () => {
      expect((await patch({ mode: 'none' })).statusCode).toBe(204);
    });

    it('starts open; a deny list blocks its domains (and subdomains for *.) at invitation time', async () => {
      expect(await getPolicy()).toEqual({ mode: 'none', domains: [] });
      expect((await patch({ mode: 'deny', domains: ['Blocked.test', ' *.spam.test '] })).statusCode).toBe(204);
      expect(await getPolicy()).toEqual({ mode: 'deny', domains: ['blocked.test', '*.spam.test'] });
      expectGraphError(await post(admin(), 'someone@blocked.test'), 403, 'Authorization_RequestDenied', blocked('blocked.test'));
      expectGraphError(await post(admin(), 'someone@BLOCKED.test'), 403, 'Authorization_RequestDenied', blocked('blocked.test'));
      expectGraphError(await post(admin(), 'someone@mail.spam.test'), 403, 'Authorization_RequestDenied', blocked('mail.spam.test'));
      expectGraphError(await post(admin(), 'someone@spam.test'), 403, 'Authorization_RequestDenied', blocked('spam.test'));
      expect(await usersWithMail('someone@blocked.test')).toEqual([]);
      expect((await post(admin(), 'someone@notblocked.test')).statusCode).toBe(201);
      expect((await post(admin(), 'someone@blocked.test.example')).statusCode).toBe(201);
    });

    it('an allow list lets in only its domains; switching modes discards the list', async () => {
      expect((await patch({ mode: 'allow', domains: ['fabrikam.test', '*.northwind.test'] })).statusCode).toBe(204);
      // The deny list is gone, not merged.
      expect(await getPolicy()).toEqual({ mode: 'allow', domains: ['fabrikam.test', '*.northwind.test'] });
      expect((await post(admin(), 'allowed@fabrikam.test')).statusCode).toBe(201);
      expect((await post(admin(), 'allowed@sales.northwind.test')).statusCode).toBe(201);
      expectGraphError(await post(admin(), 'outsider@tailspin.test'), 403, 'Authorization_RequestDenied', blocked('tailspin.test'));
      expectGraphError(await post(admin(), 'outsider@sub.fabrikam.test'), 403, 'Authorization_RequestDenied', blocked('sub.fabrikam.test'));

      // Domains alone keep the mode.
      expect((await patch({ domains: ['fabrikam.test'] })).statusCode).toBe(204);
      expect(await getPolicy()).toEqual({ mode: 'allow', domains: ['fabrikam.test'] });
      // Switching to deny without a list discards the allow list.
      expect((await patch({ mode: 'deny' })).statusCode).toBe(204);
      expect(await getPolicy()).toEqual({ mode: 'deny', domains: [] });
      expect((await post(admin(), 'anyone@tailspin.test')).statusCode).toBe(201);
      // An empty allow list would shut everyone out: refused.
      expectGraphError(await patch({ mode: 'allow' }), 400, 'Request_BadRequest', 'An allow list needs at least one domain.');
      expect(await getPolicy()).toEqual({ mode: 'deny', domains: [] });
      expect((await patch({ mode: 'none', domains: ['ignored.test'] })).statusCode).toBe(204);
      expect(await getPolicy()).toEqual({ mode: 'none', domains: [] });
    });

    it('refuses a policy over 25,000 characters and names that are not domains, changing nothing', async () => {
      const domains = (n: number) => Array.from({ length: n }, (_, i) => `d${String(i).padStart(4, '0')}-abcdefghijklmnopqrst.example.test`);
      // Each name takes 42 characters of the stored policy: 500 fit (about 21,000), 700 do not (about 29,400).
      expect((await patch({ mode: 'deny', domains: domains(500) })).statusCode).toBe(204);
      expect((await getPolicy()).domains).toHaveLength(500);
      expectGraphError(
        await patch({ mode: 'deny', domains: domains(700) }),
        400,
        'Request_BadRequest',
        'The collaboration policy may be at most 25000 characters.',
      );
      expect((await getPolicy()).domains).toHaveLength(500);

      for (const bad of [
        'not a domain',
        'http://fabrikam.test',
        'fabrikam..test',
        '-fabrikam.test',
        'fabrikam.test/path',
        'ana@fabrikam.test',
        'fabrikam',
        '',
        '*.*.test',
      ]) {
        const res = await patch({ mode: 'deny', domains: ['fine.test', bad] });
        expect(res.statusCode, bad).toBe(400);
        expect(res.json().error.code).toBe('Request_BadRequest');
      }
      expectGraphError(await patch({ mode: 'deny', domains: ['bad domain.test'] }), 400, 'Request_BadRequest', "'bad domain.test' is not a domain name.");
      expectGraphError(await patch({ mode: 'everything' }), 400, 'Request_BadRequest');
      expectGraphError(await patch({}), 400, 'Request_BadRequest');
      expect((await getPolicy()).domains).toHaveLength(500);
      expect((await patch({ mode: 'none' })).statusCode).toBe(204);
    });

    it("is read by members, changed only by Global Administrators and Directory.ReadWrite.All clients, and audited as 'Update policy'", async () => {
      expect((await call(t, callers.member, { method: 'GET', url: policyUrl })).statusCode).toBe(200);
      for (const who of ['userAdmin', 'guestInviter', 'member', 'guest', 'client'] as const)
        expectGraphError(await patch({ mode: 'deny', domains: ['x.test'] }, callers[who]), 403, 'Authorization_RequestDenied');
      expect((await getPolicy()).mode).toBe('none');

      // Entries are told apart by time: the clock moves between the changes.
      t.clock.advance(1000);
      expect((await patch({ mode: 'deny', domains: ['audited.test'] }, { token: await t.clientToken(['Directory.ReadWrite.All']) })).statusCode).toBe(204);
      t.clock.advance(1000);
      expect((await patch({ mode: 'allow', domains: ['fabrikam.test'] })).statusCode).toBe(204);
      const auditor = { token: await t.clientToken(['AuditLog.Read.All']) };
      const entries = (
        await followPages(
          t,
          auditor,
          `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent("activityDisplayName eq 'Update policy' and targetResources/any(x: x/id eq 'collaborationPolicy')")}`,
        )
      ).flatMap((p) => p.value) as {
        initiatedBy: { user: { id: string } | null };
        targetResources: { modifiedProperties: { displayName: string; oldValue: string; newValue: string }[] }[];
      }[];
      const [latest, previous] = entries;
      expect(latest!.initiatedBy.user!.id).toBe(t.admin.id);
      expect(latest!.targetResources[0]!.modifiedProperties).toEqual([
        { displayName: 'mode', oldValue: '"deny"', newValue: '"allow"' },
        { displayName: 'domains', oldValue: '["audited.test"]', newValue: '["fabrikam.test"]' },
      ]);
      expect(previous!.targetResources[0]!.modifiedProperties).toEqual([
        { displayName: 'mode', oldValue: '"none"', newValue: '"deny"' },
        { displayName: 'domains', oldValue: '[]', newValue: '["audited.test"]' },
      ]);
      expect((await patch({ mode: 'none' })).statusCode).toBe(204);
    });

    it('a pending guest whose domain is blocked before redeeming gets the domain-blocked page', async () => {
      const inv = await invite(t, admin(), 'too.slow@later-blocked.test');
      const b = browser(t, '192.0.2.2');
      expect((await b.get(pathOf(inv.inviteRedeemUrl))).statusCode).toBe(200);
      expect((await patch({ mode: 'deny', domains: ['later-blocked.test'] })).statusCode).toBe(204);

      const page = await b.get(pathOf(inv.inviteRedeemUrl));
      expect(page.statusCode).toBe(410);
      expect(page.body).toContain('Contoso no longer accepts guests from your organization.');
      expect(page.body).not.toContain('too.slow');
      expect((await b.post('/redeem/accept', { t: tokenOf(inv.inviteRedeemUrl) })).statusCode).toBe(410);
      expect(await codes.count('too.slow@later-blocked.test')).toBe(0);
      // Re-inviting the pending guest is refused like any new invitation.
      expectGraphError(await post(admin(), 'too.slow@later-blocked.test'), 403, 'Authorization_RequestDenied', blocked('later-blocked.test'));

      // The same holds for a guest who consented and is waiting for the code form.
      expect((await patch({ mode: 'none' })).statusCode).toBe(204);
      expect((await b.post('/redeem/accept', { t: tokenOf(inv.inviteRedeemUrl) })).statusCode).toBe(200);
      const code = await codes.next('too.slow@later-blocked.test');
      expect((await patch({ mode: 'allow', domains: ['fabrikam.test'] })).statusCode).toBe(204);
      const late = await b.post('/redeem/verify', { t: tokenOf(inv.inviteRedeemUrl), code });
      expect(late.statusCode).toBe(410);
      expect(late.body).toContain('Contoso no longer accepts guests from your organization.');
      const user = await call(t, reader, { method: 'GET', url: `/v1.0/users/${inv.invitedUser.id}?$select=externalUserState` });
      expect(user.json().externalUserState).toBe('PendingAcceptance');
    });
  });

  describe('the outbox', () => {
    it('is open to signed-in Global Administrators only, never to an application permission', async () => {
      const list = await call(t, admin(), { method: 'GET', url: '/v1.0/foyer/outbox' });
      expect(list.statusCode).toBe(200);
      const id = list.json().value[0].id as string;
      expect((await call(t, admin(), { method: 'GET', url: `/v1.0/foyer/outbox/${id}` })).statusCode).toBe(200);
      const refused: [string, Caller][] = [
        ['Directory.ReadWrite.All client', { token: await t.clientToken(['Directory.ReadWrite.All']) }],
        ['client with every permission', { token: await t.clientToken([...applicationPermissions]) }],
        ['User Administrator', callers.userAdmin],
        ['Guest Inviter', callers.guestInviter],
        ['member', callers.member],
        ['guest', callers.guest],
        ['User.Invite.All client', callers.client],
        ['Directory.Read.All client', { token: await t.clientToken(['Directory.Read.All', 'User.ReadWrite.All', 'AuditLog.Read.All']) }],
      ];
      for (const [who, caller] of refused) {
        const res = await call(t, caller, { method: 'GET', url: '/v1.0/foyer/outbox' });
        expect(res.statusCode, who).toBe(403);
        expect(res.json().error.code).toBe('Authorization_RequestDenied');
        expect((await call(t, caller, { method: 'GET', url: `/v1.0/foyer/outbox/${id}` })).statusCode, who).toBe(403);
      }
      expectGraphError(await call(t, null, { method: 'GET', url: '/v1.0/foyer/outbox' }), 401, 'Authentication_MissingOrMalformed');
    });

    it('does not exist when mail is delivered over SMTP: what was sent is never readable through the API', async () => {
      const smtp = await createTestApp({ smtpUrl: 'smtp://127.0.0.1:2525' });
      try {
        const ga = { session: await smtp.signIn(smtp.admin.userPrincipalName, smtp.admin.password) };
        await invite(smtp, ga, 'delivered@fabrikam.test', { sendInvitationMessage: true });
        const mail = await smtp.database.db.selectFrom('mail_messages').select('id').executeTakeFirstOrThrow();
        expectGraphError(await call(smtp, ga, { method: 'GET', url: '/v1.0/foyer/outbox' }), 404, 'Request_ResourceNotFound');
        expectGraphError(await call(smtp, ga, { method: 'GET', url: `/v1.0/foyer/outbox/${mail.id}` }), 404, 'Request_ResourceNotFound');
      } finally {
        await smtp.close();
      }
    });
  });
});

describe(`invitation rate limit per inviter (${testEngine})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ invitesPerMinute: 3 });
  });
  afterAll(() => t.close());

  it("answers 429 with Retry-After in Graph's envelope past the limit, per inviter, until the minute is over", async () => {
    const client = { token: await t.clientToken(['User.Invite.All']) };
    const post = (caller: Caller, email: string) =>
      call(t, caller, { method: 'POST', url: '/v1.0/invitations', payload: { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT } });
    for (let i = 1; i <= 3; i++) expect((await post(client, `burst${i}@fabrikam.test`)).statusCode).toBe(201);
    const refused = await post(client, 'burst4@fabrikam.test');
    const error = expectGraphError(refused, 429, 'Request_ThrottledTemporarily', 'Too many requests. Try again in 60 seconds.');
    expect(refused.headers['retry-after']).toBe('60');
    expect(error.innerError).toMatchObject({ 'request-id': expect.any(String), date: expect.any(String) });
    // Re-inviting an existing guest counts as well, and a refused request leaves no user behind.
    expect((await post(client, 'burst1@fabrikam.test')).statusCode).toBe(429);
    const reader = { token: await t.clientToken(['User.Read.All']) };
    const users = await followPages(t, reader, `/v1.0/users?$filter=${encodeURIComponent("startsWith(mail,'burst')")}&$select=mail`);
    expect(users.flatMap((p) => p.value.map((u) => u.mail)).sort()).toEqual(['burst1@fabrikam.test', 'burst2@fabrikam.test', 'burst3@fabrikam.test']);

    // Another inviter has its own budget.
    const admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    expect((await post(admin, 'by.admin@fabrikam.test')).statusCode).toBe(201);
    expect((await post({ token: await t.clientToken(['User.Invite.All']) }, 'by.other.client@fabrikam.test')).statusCode).toBe(201);

    t.clock.advance(59_000);
    const stillRefused = await post(client, 'burst4@fabrikam.test');
    expect(stillRefused.statusCode).toBe(429);
    expect(stillRefused.headers['retry-after']).toBe('1');
    t.clock.advance(1_000);
    expect((await post(client, 'burst4@fabrikam.test')).statusCode).toBe(201);
  });
});
