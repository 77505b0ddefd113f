import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createMember,
  createTestApp,
  expectGraphError,
  followPages,
  linkIn,
  MEMBER_PASSWORD,
  outboxFor,
  testEngine,
  type Caller,
  type TestApp,
} from './helpers/test-app.js';
import { browser, invite, pathOf, tokenOf } from './helpers/guest-pages.js';
import { directoryRoles } from '../src/auth/permissions.js';

interface Audit {
  activityDisplayName: string;
  category: string;
  operationType: string;
  initiatedBy: { user: { id: string } | null; app: unknown };
  targetResources: { id: string; type: string }[];
}

describe(`blocked invitees: the block link, its audit, the list and its removal (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let userAdmin: Caller;
  let ip = 0;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    const uma = await createMember(t, admin, 'Uma Useradmin');
    const grant = await call(t, admin, {
      method: 'POST',
      url: `/v1.0/directoryRoles/${directoryRoles.userAdministrator.id}/members/$ref`,
      payload: { '@odata.id': `http://foyer.test/v1.0/directoryObjects/${uma}` },
    });
    expect(grant.statusCode).toBe(204);
    userAdmin = { session: await t.signIn('umauseradmin@contoso.test', MEMBER_PASSWORD) };
  });
  afterAll(() => t.close());

  /** Invites `email` with an email, and its owner follows the email's block link; returns the guest's id. */
  async function blockedBy(email: string): Promise<string> {
    const inv = await invite(t, admin, email, { sendInvitationMessage: true });
    const [mail] = await outboxFor(t, email);
    const link = linkIn(mail!.text, 'http://foyer.test/redeem/block?t=');
    const done = await browser(t, `198.51.100.${++ip}`).post('/redeem/block', { t: tokenOf(link) });
    expect(done.statusCode, done.body).toBe(200);
    expect(pathOf(link)).not.toContain(tokenOf(inv.inviteRedeemUrl));
    return inv.invitedUser.id;
  }
  const auditsOf = async (address: string) =>
    (
      await call(t, admin, {
        method: 'GET',
        url: `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent(`targetResources/any(t: t/id eq '${address}')`)}`,
      })
    ).json().value as Audit[];
  const invitable = async (email: string) =>
    (
      await call(t, admin, {
        method: 'POST',
        url: '/v1.0/invitations',
        payload: { invitedUserEmailAddress: email, inviteRedirectUrl: 'https://apps.contoso.test/' },
      })
    ).statusCode;

  it('a block is audited as the invitee’s, listed in address order, and filtered and paged like other lists', async () => {
    const zoe = await blockedBy('Zoe@Fabrikam.test');
    await blockedBy('adam@northwind.test');

    const [audit] = await auditsOf('zoe@fabrikam.test');
    expect(audit).toMatchObject({ activityDisplayName: 'Block future invitations', category: 'UserManagement', operationType: 'Add' });
    expect(audit!.initiatedBy.user?.id).toBe(zoe);
    expect(audit!.targetResources.map((r) => [r.id, r.type])).toEqual([
      ['zoe@fabrikam.test', 'Other'],
      [zoe, 'User'],
    ]);

    const list = await call(t, admin, { method: 'GET', url: '/v1.0/foyer/blockedInvitees' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({
      '@odata.context': 'http://foyer.test/v1.0/$metadata#foyer/blockedInvitees',
      value: [
        { id: 'adam@northwind.test', emailAddress: 'adam@northwind.test', createdDateTime: t.clock.now().toISOString() },
        { id: 'zoe@fabrikam.test', emailAddress: 'zoe@fabrikam.test', createdDateTime: t.clock.now().toISOString() },
      ],
    });
    const filtered = await call(t, userAdmin, {
      method: 'GET',
      url: `/v1.0/foyer/blockedInvitees?$filter=${encodeURIComponent("startsWith(emailAddress,'ZO')")}`,
    });
    expect(filtered.json().value.map((v: { id: string }) => v.id)).toEqual(['zoe@fabrikam.test']);
    const pages = await followPages(t, admin, '/v1.0/foyer/blockedInvitees?$top=1&$select=emailAddress');
    expect(pages.map((p) => p.value)).toEqual([
      [{ id: 'adam@northwind.test', emailAddress: 'adam@northwind.test' }],
      [{ id: 'zoe@fabrikam.test', emailAddress: 'zoe@fabrikam.test' }],
    ]);
    const counted = await call(t, admin, { method: 'GET', url: '/v1.0/foyer/blockedInvitees?$count=true', headers: { consistencylevel: 'eventual' } });
    expect(counted.json()['@odata.count']).toBe(2);

    for (const query of ['$orderby=createdDateTime', '$search="emailAddress:zoe"', '$select=address', "$filter=createdDateTime eq '2026-01-01'"]) {
      const res = await call(t, admin, { method: 'GET', url: `/v1.0/foyer/blockedInvitees?${query}`, headers: { consistencylevel: 'eventual' } });
      expect(res.statusCode, query).toBe(400);
    }
  });

  it('an administrator removes a block (audited), and the address can be invited again; removing it twice is a 404', async () => {
    await blockedBy('yara@fabrikam.test');
    expect(await invitable('yara@fabrikam.test')).toBe(400);
    const removed = await call(t, userAdmin, { method: 'DELETE', url: `/v1.0/foyer/blockedInvitees/${encodeURIComponent('Yara@Fabrikam.TEST')}` });
    expect(removed.statusCode, removed.body).toBe(204);
    const audits = await auditsOf('yara@fabrikam.test');
    expect(audits.map((a) => a.activityDisplayName).sort()).toEqual(['Block future invitations', 'Remove blocked invitee']);
    const removal = audits.find((a) => a.activityDisplayName === 'Remove blocked invitee')!;
    expect(removal).toMatchObject({ category: 'UserManagement', operationType: 'Delete' });
    expect(removal.initiatedBy.user?.id).toBe((userAdmin as { session: { userId: string } }).session.userId);
    expect(await invitable('yara@fabrikam.test')).toBe(201);
    expectGraphError(
      await call(t, admin, { method: 'DELETE', url: '/v1.0/foyer/blockedInvitees/yara@fabrikam.test' }),
      404,
      'Request_ResourceNotFound',
      /'yara@fabrikam\.test'/,
    );
    const list = await call(t, admin, { method: 'GET', url: '/v1.0/foyer/blockedInvitees' });
    expect(list.json().value.map((v: { id: string }) => v.id)).not.toContain('yara@fabrikam.test');
  });
});
