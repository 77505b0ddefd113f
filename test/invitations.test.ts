import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import {
  MEMBER_PASSWORD,
  call,
  createMember,
  createTestApp,
  expectGraphError,
  followPages,
  outboxFor,
  testEngine,
  type Caller,
  type TestApp,
} from './helpers/test-app.js';
import { browser, codeReader, invite, pathOf, redeem, type CodeReader } from './helpers/guest-pages.js';

const GUEST_INVITER = '95e79109-95c0-4d8e-aee3-d01accf2d47b';
const REDIRECT = 'https://apps.contoso.test/start';
const RESET_MISMATCH =
  "The email you're using to invite this user doesn't match any emails on the user object. Please add this email to the user object and try again.";

interface FoyerInvitation {
  id: string;
  invitedUserEmailAddress: string;
  invitedUser: { id: string; userPrincipalName: string | null };
  status: string;
  source: string;
  invitedBy: { id: string; displayName: string; type: string };
  createdDateTime: string;
  lastSentDateTime: string | null;
  sendCount: number;
  deliveryState: string;
  expirationDateTime: string;
  inviteRedeemUrl?: string;
}

interface Audit {
  activityDisplayName: string;
  correlationId: string;
  initiatedBy: { user: { id: string } | null; app: { appId: string } | null };
  targetResources: {
    id: string;
    type: string;
    displayName: string | null;
    userPrincipalName: string | null;
    modifiedProperties: { displayName: string; newValue: string | null }[];
  }[];
}

describe(`POST /v1.0/invitations and /v1.0/foyer/invitations (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let inviter: { token: string }; // User.Invite.All only
  let reader: { token: string };
  let auditor: { token: string };
  let guestInviter: Caller;
  let codes: CodeReader;

  /** Tokens last an hour of clock time; tests that move the clock call this afterwards. */
  async function freshTokens() {
    inviter = { token: await t.clientToken(['User.Invite.All']) };
    reader = { token: await t.clientToken(['User.Read.All', 'Group.Read.All']) };
    auditor = { token: await t.clientToken(['AuditLog.Read.All']) };
  }

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    await freshTokens();
    const gi = await createMember(t, admin, 'Gina Inviter');
    await assignRole(GUEST_INVITER, gi);
    guestInviter = { session: await t.signIn('ginainviter@contoso.test', MEMBER_PASSWORD) };
    codes = codeReader(t);
  });
  afterAll(() => t.close());

  async function assignRole(roleId: string, userId: string) {
    const res = await call(t, admin, {
      method: 'POST',
      url: `/v1.0/directoryRoles/${roleId}/members/$ref`,
      payload: { '@odata.id': `http://foyer.test/v1.0/directoryObjects/${userId}` },
    });
    expect(res.statusCode).toBe(204);
  }

  async function createGroup(name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/groups',
      payload: { displayName: name, mailNickname: name.replace(/[^A-Za-z0-9]/g, ''), mailEnabled: false, securityEnabled: true, ...extra },
    });
    expect(res.statusCode).toBe(201);
    return res.json().id;
  }

  const post = (caller: Caller, payload: Record<string, unknown>, url = '/v1.0/invitations') => call(t, caller, { method: 'POST', url, payload });
  const getUser = async (key: string, select: string) => {
    const res = await call(t, reader, { method: 'GET', url: `/v1.0/users/${encodeURIComponent(key)}?$select=${select}` });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const usersWithMail = async (mail: string) =>
    (await followPages(t, reader, `/v1.0/users?$filter=${encodeURIComponent(`mail eq '${mail}'`)}&$select=id,mail`)).flatMap((p) => p.value);
  const invitationsOf = async (filter: string) =>
    (await followPages(t, reader, `/v1.0/foyer/invitations?$filter=${encodeURIComponent(filter)}`)).flatMap((p) => p.value) as unknown as FoyerInvitation[];
  const sponsorsOf = (userId: string) =>
    t.database.db.selectFrom('user_sponsors').select(['sponsor_id', 'sponsor_type']).where('user_id', '=', userId).orderBy('sponsor_id').execute();
  const audits = async (activity: string, targetId: string) =>
    (
      await followPages(
        t,
        auditor,
        `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent(`activityDisplayName eq '${activity}' and targetResources/any(x: x/id eq '${targetId}')`)}`,
      )
    ).flatMap((p) => p.value) as unknown as Audit[];
  const page = (url: string) => t.app.inject({ method: 'GET', url: pathOf(url) });

  it('answers 201 with every property and creates a pending guest with Graph defaults, without mail unless asked', async () => {
    const res = await post(admin, { invitedUserEmailAddress: 'Nora.Quist@Fabrikam.test', inviteRedirectUrl: REDIRECT });
    expect(res.statusCode).toBe(201);
    const inv = res.json();
    expect(inv).toEqual({
      '@odata.context': 'http://foyer.test/v1.0/$metadata#invitations/$entity',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      inviteRedeemUrl: expect.stringMatching(/^http:\/\/foyer\.test\/redeem\?t=[\w-]{43}$/),
      invitedUserDisplayName: 'Nora.Quist',
      invitedUserType: 'Guest',
      invitedUserEmailAddress: 'Nora.Quist@Fabrikam.test',
      sendInvitationMessage: false,
      resetRedemption: false,
      inviteRedirectUrl: REDIRECT,
      status: 'PendingAcceptance',
      invitedUserMessageInfo: { messageLanguage: null, customizedMessageBody: null, ccRecipients: [] },
      invitedUser: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), userPrincipalName: 'nora.quist_fabrikam.test#EXT#@contoso.test' },
      // The person who invites is the sponsor by default.
      invitedUserSponsors: [{ id: t.admin.id }],
    });

    // The user is there at once, readable by its #EXT# sign-in name as well as by id.
    const select = 'id,userType,creationType,externalUserState,externalUserStateChangeDateTime,accountEnabled,mail,mailNickname,identities,displayName';
    const user = await getUser('nora.quist_fabrikam.test#EXT#@contoso.test', select);
    expect(user).toEqual({
      '@odata.context': expect.any(String),
      id: inv.invitedUser.id,
      userType: 'Guest',
      creationType: 'Invitation',
      externalUserState: 'PendingAcceptance',
      externalUserStateChangeDateTime: t.clock.now().toISOString(),
      accountEnabled: true,
      mail: 'Nora.Quist@Fabrikam.test',
      mailNickname: 'nora.quist_fabrikam.test#EXT#',
      identities: [{ signInType: 'userPrincipalName', issuer: 'contoso.test', issuerAssignedId: 'nora.quist_fabrikam.test#EXT#@contoso.test' }],
      displayName: 'Nora.Quist',
    });
    expect(await sponsorsOf(inv.invitedUser.id)).toEqual([{ sponsor_id: t.admin.id, sponsor_type: 'user' }]);
    // sendInvitationMessage defaults to false: nothing queued.
    expect(await outboxFor(t, 'Nora.Quist@Fabrikam.test')).toEqual([]);
    expect(await outboxFor(t, 'nora.quist@fabrikam.test')).toEqual([]);

    // Asked for, the email is queued with the same link.
    const sent = await invite(t, admin, 'sent.mail@fabrikam.test', { sendInvitationMessage: true, invitedUserDisplayName: 'Sent Mail' });
    expect(sent.invitedUserDisplayName).toBe('Sent Mail');
    expect(sent.sendInvitationMessage).toBe(true);
    const [mail, ...more] = await outboxFor(t, 'sent.mail@fabrikam.test');
    expect(more).toEqual([]);
    expect(mail!.subject).toBe('Administrator invited you to access applications within their organization');
    expect(mail!.text).toContain(sent.inviteRedeemUrl);
  });

  it('takes explicit sponsors (users and groups, at most five) and answers 404 for an unknown one without writing anything', async () => {
    const member = await createMember(t, admin, 'Sam Sponsor');
    const group = await createGroup('Sponsoring team');
    const inv = await invite(t, inviter, 'sponsored@fabrikam.test', { invitedUserSponsors: [{ id: member }, { id: group.toUpperCase() }] });
    expect(inv.invitedUserSponsors).toEqual([{ id: member }, { id: group }]);
    expect(await sponsorsOf(inv.invitedUser.id)).toEqual(
      [
        { sponsor_id: member, sponsor_type: 'user' },
        { sponsor_id: group, sponsor_type: 'group' },
      ].sort((a, b) => a.sponsor_id.localeCompare(b.sponsor_id)),
    );
    // An API client is nobody's sponsor: without explicit sponsors there are none.
    const byClient = await invite(t, inviter, 'unsponsored@fabrikam.test');
    expect(byClient.invitedUserSponsors).toEqual([]);
    expect(await sponsorsOf(byClient.invitedUser.id)).toEqual([]);

    const six = Array.from({ length: 6 }, () => ({ id: member }));
    expectGraphError(
      await post(inviter, { invitedUserEmailAddress: 'six@fabrikam.test', inviteRedirectUrl: REDIRECT, invitedUserSponsors: six }),
      400,
      'Request_BadRequest',
    );
    const unknown = randomUUID();
    expectGraphError(
      await post(inviter, {
        invitedUserEmailAddress: 'ghost.sponsor@fabrikam.test',
        inviteRedirectUrl: REDIRECT,
        invitedUserSponsors: [{ id: member }, { id: unknown }],
      }),
      404,
      'Request_ResourceNotFound',
      `Resource '${unknown}' does not exist or one of its queried reference-property objects are not present.`,
    );
    expect(await usersWithMail('ghost.sponsor@fabrikam.test')).toEqual([]);
    expect(await usersWithMail('six@fabrikam.test')).toEqual([]);
  });

  it("refuses addresses with Graph's forbidden characters or a local part starting or ending with '.' or '-', and allows '_'", async () => {
    const forbidden = ['~', '!', '#', '$', '%', '^', '&', '*', '(', ')', '+', '=', '[', ']', '{', '}', '\\', '/', '|', ';', ':', '"', '<', '>', '?', ','];
    const bad = [
      ...forbidden.map((c) => `ab${c}cd@fabrikam.test`),
      ...forbidden.map((c) => `abcd@fabri${c}kam.test`),
      '.lead@fabrikam.test',
      'trail.@fabrikam.test',
      '-lead@fabrikam.test',
      'trail-@fabrikam.test',
      'no-at-sign.fabrikam.test',
      'nodomain@',
      '@fabrikam.test',
      'two@@fabrikam.test',
      'undotted@fabrikam',
    ];
    for (const address of bad) {
      const res = await post(inviter, { invitedUserEmailAddress: address, inviteRedirectUrl: REDIRECT });
      expect(res.statusCode, address).toBe(400);
      expect(res.json().error.code, address).toBe('Request_BadRequest');
    }
    expect(await followPages(t, reader, `/v1.0/foyer/invitations?$filter=${encodeURIComponent("startsWith(invitedUserEmailAddress,'ab')")}`)).toEqual([
      expect.objectContaining({ value: [] }),
    ]);
    expectGraphError(
      await post(inviter, { invitedUserEmailAddress: 'ab!cd@fabrikam.test', inviteRedirectUrl: REDIRECT }),
      400,
      'Request_BadRequest',
      "The email address 'ab!cd@fabrikam.test' is not valid.",
    );

    for (const address of ['under_score@fabrikam.test', '_lead_@fabrikam.test', 'mid.dle-dash@fabrikam.test', "o'brien@fabrikam.test"]) {
      const res = await post(inviter, { invitedUserEmailAddress: address, inviteRedirectUrl: REDIRECT });
      expect(res.statusCode, address).toBe(201);
    }
    expect((await getUser('under_score_fabrikam.test#EXT#@contoso.test', 'mail')).mail).toBe('under_score@fabrikam.test');
  });

  it('needs an absolute inviteRedirectUrl and refuses unknown or read-only properties', async () => {
    const email = 'redirect.rules@fabrikam.test';
    expectGraphError(await post(inviter, { invitedUserEmailAddress: email }), 400, 'Request_BadRequest', "Property 'inviteRedirectUrl' is required.");
    expectGraphError(await post(inviter, { inviteRedirectUrl: REDIRECT }), 400, 'Request_BadRequest', "Property 'invitedUserEmailAddress' is required.");
    for (const url of ['/start', 'apps.contoso.test/start', 'javascript:alert(1)', 'ftp://apps.contoso.test/']) {
      const res = await post(inviter, { invitedUserEmailAddress: email, inviteRedirectUrl: url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.message, url).toContain('inviteRedirectUrl');
    }
    expectGraphError(
      await post(inviter, { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT, invitedUserEmail: email }),
      400,
      'Request_BadRequest',
      "Property 'invitedUserEmail' does not exist on the resource; check its name and casing.",
    );
    expectGraphError(
      await post(inviter, { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT, status: 'Accepted' }),
      400,
      'Request_BadRequest',
      "Property 'status' is read-only and cannot be set.",
    );
    // `groups` is Foyer's extension, not Graph's.
    expectGraphError(await post(inviter, { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT, groups: [] }), 400, 'Request_BadRequest');
    expect(await usersWithMail(email)).toEqual([]);
  });

  it('re-inviting a guest answers 201 with the same user and a new link; the old link stops working', async () => {
    const first = await invite(t, inviter, 'again@fabrikam.test');
    expect((await page(first.inviteRedeemUrl)).statusCode).toBe(200);
    const second = await invite(t, admin, 'AGAIN@Fabrikam.test');
    expect(second.invitedUser).toEqual(first.invitedUser);
    expect(second.inviteRedeemUrl).not.toBe(first.inviteRedeemUrl);
    const old = await page(first.inviteRedeemUrl);
    expect(old.statusCode).toBe(410);
    expect(old.body).toContain('This invitation was withdrawn.');
    expect((await page(second.inviteRedeemUrl)).statusCode).toBe(200);
    expect(await usersWithMail('again@fabrikam.test')).toHaveLength(1);
    const invitations = await invitationsOf(`invitedUser/id eq '${first.invitedUser.id}'`);
    expect(invitations.map((i) => i.status).sort()).toEqual(['PendingAcceptance', 'Revoked']);
  });

  it("refuses a member's address (mail, sign-in name or otherMails) with 400 and writes nothing", async () => {
    await createMember(t, admin, 'Mia Member', { otherMails: ['mia.private@fabrikam.test'] });
    for (const address of ['miamember@contoso.test', 'MiaMember@Contoso.test', 'mia.private@fabrikam.test']) {
      const res = await post(inviter, { invitedUserEmailAddress: address, inviteRedirectUrl: REDIRECT });
      expectGraphError(res, 400, 'Request_BadRequest', /member/);
    }
    expect(await invitationsOf("startsWith(invitedUserEmailAddress,'mia')")).toEqual([]);
  });

  it('lets only administrators invite with invitedUserType Member', async () => {
    for (const caller of [inviter, guestInviter]) {
      expectGraphError(
        await post(caller, { invitedUserEmailAddress: 'would.be.member@fabrikam.test', inviteRedirectUrl: REDIRECT, invitedUserType: 'Member' }),
        403,
        'Authorization_RequestDenied',
      );
    }
    expect(await usersWithMail('would.be.member@fabrikam.test')).toEqual([]);
    const inv = await invite(t, admin, 'would.be.member@fabrikam.test', { invitedUserType: 'Member' });
    expect(inv.invitedUserType).toBe('Member');
    expect(await getUser(inv.invitedUser.id, 'userType,creationType,externalUserState')).toMatchObject({
      userType: 'Member',
      creationType: 'Invitation',
      externalUserState: 'PendingAcceptance',
    });
  });

  it('resetRedemption: needs invitedUser.id and a known address; keeps id and groups, sets PendingAcceptance and is audited', async () => {
    const group = await createGroup('Reset team');
    const first = await invite(t, admin, 'riley@fabrikam.test', { groups: [group] });
    const userId = first.invitedUser.id;
    await redeem(t, codes, browser(t, '198.51.100.10'), first.inviteRedeemUrl, 'riley@fabrikam.test');
    expect((await getUser(userId, 'externalUserState')).externalUserState).toBe('Accepted');
    expect((await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${userId}`, payload: { otherMails: ['riley@tailspin.test'] } })).statusCode).toBe(204);

    const reset = (email: string, extra: Record<string, unknown>, caller: Caller = admin) =>
      post(caller, { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT, resetRedemption: true, ...extra });
    expectGraphError(await reset('riley@tailspin.test', {}), 400, 'Request_BadRequest', /invitedUser/);
    expectGraphError(await reset('riley@tailspin.test', { invitedUser: { id: 'not-a-guid' } }), 400, 'Request_BadRequest', /invitedUser/);
    expectGraphError(await reset('riley@northwind.test', { invitedUser: { id: userId } }), 400, 'Request_BadRequest', RESET_MISMATCH);
    expectGraphError(await reset('riley@tailspin.test', { invitedUser: { id: randomUUID() } }), 404, 'Request_ResourceNotFound');
    // Resetting is for administrators, not for everyone who may invite.
    expectGraphError(await reset('riley@tailspin.test', { invitedUser: { id: userId } }, inviter), 403, 'Authorization_RequestDenied');
    expect((await getUser(userId, 'externalUserState')).externalUserState).toBe('Accepted');

    const res = await reset('riley@tailspin.test', { invitedUser: { id: userId } });
    expect(res.statusCode).toBe(201);
    const inv = res.json();
    expect(inv).toMatchObject({
      resetRedemption: true,
      status: 'PendingAcceptance',
      invitedUserEmailAddress: 'riley@tailspin.test',
      invitedUser: { id: userId },
    });
    expect(await getUser(userId, 'id,externalUserState,externalUserStateChangeDateTime,mail,otherMails')).toMatchObject({
      id: userId,
      externalUserState: 'PendingAcceptance',
      externalUserStateChangeDateTime: t.clock.now().toISOString(),
      mail: 'riley@fabrikam.test',
      otherMails: ['riley@tailspin.test'],
    });
    const memberOf = await call(t, reader, { method: 'GET', url: `/v1.0/users/${userId}/memberOf` });
    expect(memberOf.json().value.map((g: { id: string }) => g.id)).toEqual([group]);
    // The address in mail works too, and the id never changes.
    const again = await reset('RILEY@fabrikam.test', { invitedUser: { id: userId.toUpperCase() } });
    expect(again.statusCode).toBe(201);
    expect(again.json().invitedUser.id).toBe(userId);
    expect((await page(inv.inviteRedeemUrl)).statusCode).toBe(410);

    const [entry, ...more] = await audits('Invite external user with reset invitation status', userId);
    expect(more).toHaveLength(1);
    expect(entry).toMatchObject({ initiatedBy: { user: { id: t.admin.id } }, targetResources: [expect.objectContaining({ id: userId, type: 'User' })] });
    // The reset is not also logged as a plain invitation.
    expect(await audits('Invite external user', userId)).toHaveLength(1);
  });

  it('twenty concurrent invitations of one address make one user and all answer 201 with its id', async () => {
    const email = 'crowd@fabrikam.test';
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/v1.0/invitations',
          headers: { authorization: `Bearer ${inviter.token}` },
          payload: { invitedUserEmailAddress: i % 2 ? email : email.toUpperCase(), inviteRedirectUrl: REDIRECT },
        }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    const ids = new Set(responses.map((r) => r.json().invitedUser.id));
    expect(ids.size).toBe(1);
    const users = await usersWithMail(email);
    expect(users.map((u) => u.id)).toEqual([...ids]);
    // One live link per guest: the other nineteen were replaced.
    const invitations = await invitationsOf(`invitedUser/id eq '${[...ids][0]}'`);
    expect(invitations).toHaveLength(20);
    expect(invitations.filter((i) => i.status === 'PendingAcceptance')).toHaveLength(1);
  });

  describe('/v1.0/foyer/invitations with groups', () => {
    let g1: string;
    let g2: string;
    beforeAll(async () => {
      g1 = await createGroup('Project Alpha');
      g2 = await createGroup('Project Beta');
    });

    const members = async (groupId: string) =>
      (await followPages(t, reader, `/v1.0/groups/${groupId}/members?$select=id`)).flatMap((p) => p.value.map((v) => v.id as string));

    it('adds the guest to every group in the same transaction and answers the invitation with its link', async () => {
      const res = await post(
        admin,
        { invitedUserEmailAddress: 'grouped@fabrikam.test', inviteRedirectUrl: REDIRECT, groups: [g1, g2.toUpperCase(), g1] },
        '/v1.0/foyer/invitations',
      );
      expect(res.statusCode).toBe(201);
      const inv = res.json();
      expect(inv).toMatchObject({
        '@odata.context': 'http://foyer.test/v1.0/$metadata#foyer/invitations/$entity',
        invitedUserEmailAddress: 'grouped@fabrikam.test',
        status: 'PendingAcceptance',
        source: 'directory',
        inviteRedeemUrl: expect.stringMatching(/^http:\/\/foyer\.test\/redeem\?t=[\w-]{43}$/),
        invitedUser: { id: expect.any(String), userPrincipalName: 'grouped_fabrikam.test#EXT#@contoso.test' },
      });
      expect(inv.groups.map((g: { displayName: string }) => g.displayName).sort()).toEqual(['Project Alpha', 'Project Beta']);
      expect(await members(g1)).toContain(inv.invitedUser.id);
      expect(await members(g2)).toContain(inv.invitedUser.id);
      const [invited] = await audits('Invite external user', inv.invitedUser.id);
      const added = await audits('Add member to group', inv.invitedUser.id);
      expect(added.map((a) => a.targetResources[1]!.id).sort()).toEqual([g1, g2].sort());
      for (const a of added) expect(a.correlationId).toBe(invited!.correlationId);
    });

    it('an unknown group answers 404 and writes nothing: no user, no invitation, no mail, no membership', async () => {
      const email = 'nowhere@fabrikam.test';
      const before = await members(g1);
      const unknown = randomUUID();
      expectGraphError(
        await post(
          admin,
          { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT, sendInvitationMessage: true, groups: [g1, unknown] },
          '/v1.0/foyer/invitations',
        ),
        404,
        'Request_ResourceNotFound',
        `Resource '${unknown}' does not exist or one of its queried reference-property objects are not present.`,
      );
      expectGraphError(
        await post(admin, { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT, groups: ['not-a-group'] }, '/v1.0/foyer/invitations'),
        404,
        'Request_ResourceNotFound',
      );
      expect(await usersWithMail(email)).toEqual([]);
      expect(await invitationsOf(`invitedUserEmailAddress eq '${email}'`)).toEqual([]);
      expect(await outboxFor(t, email)).toEqual([]);
      expect(await members(g1)).toEqual(before);
      expect(await t.database.db.selectFrom('users').select('id').where('mail_lower', '=', email).execute(), 'not even a deleted row is left behind').toEqual(
        [],
      );
    });

    it('a group the inviter may not manage answers 403 and writes nothing; a member may add guests to groups they own', async () => {
      expectGraphError(
        await post(guestInviter, { invitedUserEmailAddress: 'not.yours@fabrikam.test', inviteRedirectUrl: REDIRECT, groups: [g1] }, '/v1.0/foyer/invitations'),
        403,
        'Authorization_RequestDenied',
        "You cannot add members to the group 'Project Alpha'.",
      );
      expect(await usersWithMail('not.yours@fabrikam.test')).toEqual([]);
      expect(await invitationsOf("invitedUserEmailAddress eq 'not.yours@fabrikam.test'")).toEqual([]);

      const owner = await createMember(t, admin, 'Olga Owner');
      const owned = await createGroup('Olga team', { 'owners@odata.bind': [`http://foyer.test/v1.0/users/${owner}`] });
      const olga = { session: await t.signIn('olgaowner@contoso.test', MEMBER_PASSWORD) };
      const ok = await post(
        olga,
        { invitedUserEmailAddress: 'olgas.guest@fabrikam.test', inviteRedirectUrl: REDIRECT, groups: [owned] },
        '/v1.0/foyer/invitations',
      );
      expect(ok.statusCode).toBe(201);
      expect(await members(owned)).toEqual([ok.json().invitedUser.id]);
      expectGraphError(
        await post(olga, { invitedUserEmailAddress: 'olgas.other@fabrikam.test', inviteRedirectUrl: REDIRECT, groups: [owned, g2] }, '/v1.0/foyer/invitations'),
        403,
        'Authorization_RequestDenied',
      );
      expect(await usersWithMail('olgas.other@fabrikam.test')).toEqual([]);
    });

    it('takes at most 20 groups', async () => {
      const groups = Array.from({ length: 21 }, () => randomUUID());
      expectGraphError(
        await post(admin, { invitedUserEmailAddress: 'many@fabrikam.test', inviteRedirectUrl: REDIRECT, groups }, '/v1.0/foyer/invitations'),
        400,
        'Request_BadRequest',
      );
    });
  });

  describe('listing, resending and revoking', () => {
    it('lists state, inviter, created, last sent, send count and source (api for clients, directory for people)', async () => {
      const byClient = await invite(t, inviter, 'listed.api@fabrikam.test', { groups: [] });
      const byPerson = await invite(t, admin, 'listed.person@fabrikam.test', { groups: [], sendInvitationMessage: true });
      const created = t.clock.now().toISOString();
      const [api] = await invitationsOf("invitedUserEmailAddress eq 'listed.api@fabrikam.test'");
      expect(api).toMatchObject({
        id: byClient.id,
        status: 'PendingAcceptance',
        source: 'api',
        invitedBy: { type: 'app', displayName: expect.stringContaining('User.Invite.All') },
        createdDateTime: created,
        lastSentDateTime: null,
        sendCount: 0,
        deliveryState: 'notRequested',
        invitedUser: byClient.invitedUser,
        expirationDateTime: new Date(t.clock.now().getTime() + 30 * 86_400_000).toISOString(),
      });
      expect(api).not.toHaveProperty('inviteRedeemUrl');
      const [person] = await invitationsOf("invitedUserEmailAddress eq 'listed.person@fabrikam.test'");
      expect(person).toMatchObject({
        id: byPerson.id,
        source: 'directory',
        invitedBy: { id: t.admin.id, type: 'user' },
        createdDateTime: created,
        lastSentDateTime: created,
        sendCount: 1,
        deliveryState: 'queued',
      });
      expect((await invitationsOf("source eq 'api'")).map((i) => i.id)).toContain(byClient.id);
      expect((await invitationsOf("source eq 'api'")).map((i) => i.id)).not.toContain(byPerson.id);

      const one = await call(t, admin, { method: 'GET', url: `/v1.0/foyer/invitations/${byPerson.id}` });
      expect(one.statusCode).toBe(200);
      expect(one.json()).toMatchObject({ id: byPerson.id, sendCount: 1, status: 'PendingAcceptance' });
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/foyer/invitations/${randomUUID()}` }), 404, 'Request_ResourceNotFound');
    });

    it('resend rotates the link (the old one shows the invalid-link page), mails it again, counts it and is audited', async () => {
      const inv = await invite(t, admin, 'resend.me@fabrikam.test', { groups: [] });
      t.clock.advance(60_000);
      const res = await call(t, admin, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/resend` });
      expect(res.statusCode).toBe(200);
      const after = res.json();
      expect(after).toMatchObject({
        id: inv.id,
        status: 'PendingAcceptance',
        sendCount: 1,
        lastSentDateTime: t.clock.now().toISOString(),
        deliveryState: 'queued',
      });
      expect(after.inviteRedeemUrl).not.toBe(inv.inviteRedeemUrl);
      const old = await page(inv.inviteRedeemUrl);
      expect(old.statusCode).toBe(404);
      expect(old.body).toContain('This invitation link is not valid.');
      expect((await page(after.inviteRedeemUrl)).statusCode).toBe(200);
      const [mail] = await outboxFor(t, 'resend.me@fabrikam.test');
      expect(mail!.text).toContain(after.inviteRedeemUrl);
      expect(mail!.text).not.toContain(inv.inviteRedeemUrl);

      const again = (await call(t, admin, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/resend` })).json();
      expect(again.sendCount).toBe(2);
      expect((await page(after.inviteRedeemUrl)).statusCode).toBe(404);
      const [listed] = await invitationsOf(`invitedUserEmailAddress eq 'resend.me@fabrikam.test'`);
      expect(listed).toMatchObject({ sendCount: 2, lastSentDateTime: t.clock.now().toISOString() });

      const entries = await audits('Resend external user invitation', inv.invitedUser.id);
      expect(entries).toHaveLength(2);
      expect(entries[0]!.targetResources[0]).toMatchObject({
        id: inv.invitedUser.id,
        type: 'User',
        userPrincipalName: 'resend.me_fabrikam.test#EXT#@contoso.test',
      });
    });

    it('revoke makes the link useless, cannot be resent or revoked twice, and is audited', async () => {
      const inv = await invite(t, inviter, 'revoke.me@fabrikam.test', { groups: [] });
      const res = await call(t, inviter, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/revoke` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: inv.id, status: 'Revoked' });
      const link = await page(inv.inviteRedeemUrl);
      expect(link.statusCode).toBe(410);
      expect(link.body).toContain('This invitation was withdrawn.');
      expect(link.body).not.toContain('revoke.me');
      const token = new URL(inv.inviteRedeemUrl).searchParams.get('t')!;
      const accept = await t.app.inject({
        method: 'POST',
        url: '/redeem/accept',
        payload: new URLSearchParams({ t: token }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.origin },
      });
      expect(accept.statusCode).toBe(410);
      expect(await codes.count('revoke.me@fabrikam.test')).toBe(0);
      expectGraphError(await call(t, inviter, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/resend` }), 400, 'Request_BadRequest');
      expectGraphError(await call(t, inviter, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/revoke` }), 400, 'Request_BadRequest');
      const [listed] = await invitationsOf(`invitedUserEmailAddress eq 'revoke.me@fabrikam.test'`);
      expect(listed!.status).toBe('Revoked');

      const [entry, ...more] = await audits('Revoke external user invitation', inv.invitedUser.id);
      expect(more).toEqual([]);
      expect(entry!.targetResources[0]).toMatchObject({
        id: inv.invitedUser.id,
        type: 'User',
        displayName: 'revoke.me',
        userPrincipalName: 'revoke.me_fabrikam.test#EXT#@contoso.test',
      });
      expect(entry!.initiatedBy.app).toMatchObject({ appId: expect.any(String) });
    });

    it('people manage their own invitations only; Guest Inviters and administrators manage all', async () => {
      const member = await createMember(t, admin, 'Max Member');
      const max = { session: await t.signIn('maxmember@contoso.test', MEMBER_PASSWORD) };
      const own = await invite(t, max, 'maxs.guest@fabrikam.test', { groups: [] });
      const others = await invite(t, admin, 'admins.guest@fabrikam.test', { groups: [] });
      expect((await call(t, max, { method: 'GET', url: `/v1.0/foyer/invitations/${own.id}` })).json().invitedBy.id).toBe(member);
      expectGraphError(await call(t, max, { method: 'POST', url: `/v1.0/foyer/invitations/${others.id}/revoke` }), 403, 'Authorization_RequestDenied');
      expect((await call(t, max, { method: 'POST', url: `/v1.0/foyer/invitations/${own.id}/resend` })).statusCode).toBe(200);
      expect((await call(t, guestInviter, { method: 'POST', url: `/v1.0/foyer/invitations/${own.id}/revoke` })).statusCode).toBe(200);
      expectGraphError(await call(t, null, { method: 'GET', url: '/v1.0/foyer/invitations' }), 401, 'Authentication_MissingOrMalformed');
    });
  });

  it("audits 'Invite external user' and 'Redeem external user invite' with the guest as target", async () => {
    const inv = await invite(t, admin, 'audited.guest@fabrikam.test', { invitedUserDisplayName: 'Audited Guest' });
    const id = inv.invitedUser.id;
    const [invited, ...moreInvites] = await audits('Invite external user', id);
    expect(moreInvites).toEqual([]);
    expect(invited).toMatchObject({
      initiatedBy: { user: { id: t.admin.id }, app: null },
      targetResources: [
        {
          id,
          type: 'User',
          displayName: 'Audited Guest',
          userPrincipalName: 'audited.guest_fabrikam.test#EXT#@contoso.test',
          modifiedProperties: [expect.objectContaining({ displayName: 'invitedUserEmailAddress', newValue: JSON.stringify('audited.guest@fabrikam.test') })],
        },
      ],
    });
    expect(await audits('Redeem external user invite', id)).toEqual([]);
    await redeem(t, codes, browser(t, '198.51.100.11'), inv.inviteRedeemUrl, 'audited.guest@fabrikam.test');
    const [redeemed, ...moreRedeems] = await audits('Redeem external user invite', id);
    expect(moreRedeems).toEqual([]);
    expect(redeemed).toMatchObject({
      initiatedBy: { user: { id } },
      targetResources: [{ id, type: 'User', userPrincipalName: 'audited.guest_fabrikam.test#EXT#@contoso.test' }],
    });
    expect(redeemed!.targetResources[0]!.modifiedProperties).toEqual([
      { displayName: 'externalUserState', oldValue: '"PendingAcceptance"', newValue: '"Accepted"' },
    ]);
  });

  // Moves the clock by a month: keep it last.
  it('an unredeemed link expires after 30 days: the expired page, and Expired in the list', async () => {
    const inv = await invite(t, inviter, 'too.late@fabrikam.test', { groups: [] });
    t.clock.advance(30 * 86_400_000 - 60_000);
    expect((await page(inv.inviteRedeemUrl)).statusCode).toBe(200);
    t.clock.advance(2 * 60_000);
    await freshTokens();
    const expired = await page(inv.inviteRedeemUrl);
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('This invitation has expired.');
    expect(expired.body).not.toContain('too.late');
    const [listed] = await invitationsOf("invitedUserEmailAddress eq 'too.late@fabrikam.test'");
    expect(listed!.status).toBe('Expired');
    // Resending gives a fresh 30 days.
    const resent = await call(t, inviter, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/resend` });
    expect(resent.statusCode).toBe(200);
    expect(resent.json().status).toBe('PendingAcceptance');
    expect((await page(resent.json().inviteRedeemUrl)).statusCode).toBe(200);
  });
});
