import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import {
  MEMBER_PASSWORD,
  call,
  createGuest,
  createMember,
  createTestApp,
  expectGraphError,
  followPages,
  testEngine,
  type Caller,
  type Session,
  type TestApp,
} from './helpers/test-app.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const USER_ADMIN = 'fe930be7-5e62-47db-91af-98c3a49a38b1';
const GUEST_INVITER = '95e79109-95c0-4d8e-aee3-d01accf2d47b';
const HELPDESK_ADMIN = '729827e3-9c14-49f7-bb1b-9608f156bbb8';
const GUESTS_AS_MEMBERS = 'a0b1b346-4d3e-4e8b-98f8-753987be4970';
const GUESTS_LIMITED = '10dae51f-b6af-4016-8d66-8c2a99b929b3';
const GUESTS_RESTRICTED = '2af84b1e-32c8-42b7-82bc-daa82404023b';

interface Audit {
  id: string;
  activityDateTime: string;
  activityDisplayName: string;
  category: string;
  correlationId: string;
  initiatedBy: { user: { id: string; userPrincipalName: string } | null; app: { appId: string; displayName: string } | null };
  operationType: string;
  result: string;
  targetResources: {
    id: string;
    displayName: string | null;
    type: string;
    userPrincipalName: string | null;
    modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[];
  }[];
}

const ref = (id: string) => ({ '@odata.id': `http://foyer.test/v1.0/directoryObjects/${id}` });

describe(`audit log (${testEngine})`, () => {
  let t: TestApp;
  let session: Session;
  let admin: Caller;
  let auditor: Caller;

  beforeAll(async () => {
    t = await createTestApp();
    // A person does the changes, so initiatedBy names a user.
    session = await t.signIn(t.admin.userPrincipalName, t.admin.password);
    admin = { session };
    auditor = { token: await t.clientToken(['AuditLog.Read.All']) };
  });
  afterAll(() => t.close());

  async function audits(filter?: string, extra = ''): Promise<Audit[]> {
    const url = `/v1.0/auditLogs/directoryAudits?${filter ? `$filter=${encodeURIComponent(filter)}` : ''}${extra}`;
    return (await followPages(t, auditor, url)).flatMap((p) => p.value) as unknown as Audit[];
  }
  const about = (id: string, activity: string) => audits(`activityDisplayName eq '${activity}' and targetResources/any(t: t/id eq '${id}')`);

  it('records Add user with the properties set, the initiator, and never the password', async () => {
    const id = await createMember(t, admin, 'Audited Person', { jobTitle: 'Auditor' });
    const [entry, ...more] = await about(id, 'Add user');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      activityDisplayName: 'Add user',
      category: 'UserManagement',
      operationType: 'Add',
      result: 'success',
      loggedByService: 'Core Directory',
      activityDateTime: t.clock.now().toISOString(),
      initiatedBy: { user: { id: t.admin.id, userPrincipalName: 'admin@contoso.test' }, app: null },
    });
    expect(entry!.targetResources[0]).toMatchObject({ id, type: 'User', displayName: 'Audited Person', userPrincipalName: 'auditedperson@contoso.test' });
    const props = Object.fromEntries(entry!.targetResources[0]!.modifiedProperties.map((p) => [p.displayName, p]));
    expect(JSON.parse(props.displayName!.newValue!)).toBe('Audited Person');
    expect(JSON.parse(props.jobTitle!.newValue!)).toBe('Auditor');
    expect(props).not.toHaveProperty('passwordProfile');
    expect(JSON.stringify(entry)).not.toContain(MEMBER_PASSWORD);
  });

  it('records Update user with old and new values of exactly the changed properties', async () => {
    const id = await createMember(t, admin, 'Before Name', { jobTitle: 'Clerk', department: 'Finance' });
    const patch = await call(t, admin, {
      method: 'PATCH',
      url: `/v1.0/users/${id}`,
      payload: { displayName: 'After Name', jobTitle: null, department: 'Finance', passwordProfile: { password: 'An0ther-Passw0rd!' } },
    });
    expect(patch.statusCode).toBe(204);
    const [entry, ...more] = await about(id, 'Update user');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ category: 'UserManagement', operationType: 'Update', initiatedBy: { user: { id: t.admin.id } } });
    const target = entry!.targetResources[0]!;
    expect(target).toMatchObject({ id, displayName: 'After Name' });
    const props = Object.fromEntries(target.modifiedProperties.map((p) => [p.displayName, p]));
    expect(Object.keys(props).sort()).toEqual(['displayName', 'jobTitle', 'passwordProfile']);
    expect([JSON.parse(props.displayName!.oldValue!), JSON.parse(props.displayName!.newValue!)]).toEqual(['Before Name', 'After Name']);
    expect([JSON.parse(props.jobTitle!.oldValue!), JSON.parse(props.jobTitle!.newValue!)]).toEqual(['Clerk', null]);
    expect(JSON.stringify(entry)).not.toContain('An0ther-Passw0rd!');
  });

  it('records Delete user for members, Delete external user for guests, and Restore user', async () => {
    const member = await createMember(t, admin, 'Deleted Member');
    const guest = await createGuest(t, admin, 'deleted.guest@fabrikam.test');
    for (const id of [member, guest]) expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${id}` })).statusCode).toBe(204);
    expect(await about(member, 'Delete user')).toHaveLength(1);
    expect(await about(member, 'Delete external user')).toHaveLength(0);
    expect(await about(guest, 'Delete external user')).toHaveLength(1);
    expect(await about(guest, 'Delete user')).toHaveLength(0);
    expect((await about(guest, 'Delete external user'))[0]).toMatchObject({
      operationType: 'Delete',
      targetResources: [expect.objectContaining({ id: guest, type: 'User' })],
    });

    expect((await call(t, admin, { method: 'POST', url: `/v1.0/directory/deletedItems/${member}/restore` })).statusCode).toBe(200);
    const [restored] = await about(member, 'Restore user');
    expect(restored).toMatchObject({ operationType: 'Restore', initiatedBy: { user: { id: t.admin.id } } });
  });

  it('records Add member to group, Remove member from group and Add owner to group with the user and the group as targets', async () => {
    const member = await createMember(t, admin, 'Group Joiner');
    const owner = await createMember(t, admin, 'Group Boss');
    const res = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/groups',
      payload: { displayName: 'Audited group', mailNickname: 'audited', mailEnabled: false, securityEnabled: true },
    });
    const group = res.json().id as string;
    expect((await call(t, admin, { method: 'POST', url: `/v1.0/groups/${group}/members/$ref`, payload: ref(member) })).statusCode).toBe(204);
    expect((await call(t, admin, { method: 'POST', url: `/v1.0/groups/${group}/owners/$ref`, payload: ref(owner) })).statusCode).toBe(204);
    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${group}/members/${member}/$ref` })).statusCode).toBe(204);
    // A refused add is not an event.
    await call(t, admin, { method: 'POST', url: `/v1.0/groups/${group}/owners/$ref`, payload: ref(owner) });

    const added = await about(member, 'Add member to group');
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ category: 'GroupManagement', operationType: 'Assign' });
    expect(added[0]!.targetResources.map((r) => [r.type, r.id])).toEqual([
      ['User', member],
      ['Group', group],
    ]);
    // Found from the group's side as well.
    expect((await about(group, 'Add member to group')).map((a) => a.id)).toEqual([added[0]!.id]);
    const removed = await about(member, 'Remove member from group');
    expect(removed).toHaveLength(1);
    expect(removed[0]!.targetResources.map((r) => r.id)).toEqual([member, group]);
    const owned = await about(owner, 'Add owner to group');
    expect(owned).toHaveLength(1);
    expect(owned[0]!.targetResources.map((r) => r.id)).toEqual([owner, group]);
  });

  it('filters on activityDateTime ge/le, initiatedBy/user/id and targetResources/any', async () => {
    t.clock.advance(600_000);
    const early = t.clock.now().toISOString();
    const a = await createMember(t, admin, 'Early Bird');
    t.clock.advance(600_000);
    const late = t.clock.now().toISOString();
    const app = { token: await t.clientToken(['User.ReadWrite.All']) };
    const b = await createMember(t, app, 'Late Riser');
    session = await t.signIn(t.admin.userPrincipalName, t.admin.password);
    admin = { session };

    const addUser = "activityDisplayName eq 'Add user'";
    const ids = (list: Audit[]) => list.map((x) => x.targetResources[0]!.id);
    expect(ids(await audits(`${addUser} and activityDateTime ge ${early}`))).toEqual([b, a]);
    expect(ids(await audits(`${addUser} and activityDateTime ge ${early} and activityDateTime le ${early}`))).toEqual([a]);
    expect(ids(await audits(`${addUser} and activityDateTime ge ${late}`))).toEqual([b]);
    expect(ids(await audits(`${addUser} and activityDateTime le ${early}`))).not.toContain(b);
    expect(ids(await audits(`${addUser} and activityDateTime le ${early}`))).toContain(a);

    const byAdmin = await audits(`initiatedBy/user/id eq '${t.admin.id}'`);
    expect(byAdmin.length).toBeGreaterThan(5);
    expect(byAdmin.every((x) => x.initiatedBy.user?.id === t.admin.id)).toBe(true);
    expect(ids(byAdmin)).toContain(a);
    expect(ids(byAdmin)).not.toContain(b);
    const [byApp] = await about(b, 'Add user');
    expect(byApp!.initiatedBy.user).toBeNull();
    expect(byApp!.initiatedBy.app).toMatchObject({ appId: expect.any(String) });

    expect((await audits(`targetResources/any(t: t/id eq '${b}')`)).map((x) => x.activityDisplayName)).toEqual(['Add user']);
    expect((await audits(`targetResources/any(t: t/id eq '${b.toUpperCase()}')`)).map((x) => x.activityDisplayName)).toEqual(['Add user']);
    expect(await audits(`targetResources/any(t: t/id eq '${randomUUID()}')`)).toEqual([]);
  });

  it('lists newest first by default, pages without duplicates, and orders ascending on request', async () => {
    const all = await audits();
    const times = all.map((x) => x.activityDateTime);
    expect(times).toEqual([...times].sort().reverse());
    const paged = (await followPages(t, auditor, '/v1.0/auditLogs/directoryAudits?$top=3')).flatMap((p) => p.value.map((x) => x.id));
    expect(paged).toEqual(all.map((x) => x.id));
    const asc = (await followPages(t, auditor, '/v1.0/auditLogs/directoryAudits?$orderby=activityDateTime%20asc&$top=4')).flatMap((p) =>
      p.value.map((x) => x.id),
    );
    expect(asc).toEqual(all.map((x) => x.id).reverse());
  });

  it('needs AuditLog.Read.All or a Global Administrator', async () => {
    const users = { token: await t.clientToken(['Directory.ReadWrite.All']) };
    expectGraphError(await call(t, users, { method: 'GET', url: '/v1.0/auditLogs/directoryAudits' }), 403, 'Authorization_RequestDenied');
    await createMember(t, admin, 'Plain Member');
    const member = { session: await t.signIn('plainmember@contoso.test', MEMBER_PASSWORD) };
    expectGraphError(await call(t, member, { method: 'GET', url: '/v1.0/auditLogs/directoryAudits' }), 403, 'Authorization_RequestDenied');
    expect((await call(t, admin, { method: 'GET', url: '/v1.0/auditLogs/directoryAudits?$top=1' })).statusCode).toBe(200);
  });
});

describe(`authorization policy (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let guest: Caller;
  let member: Caller;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    await createGuest(t, admin, 'policy.guest@fabrikam.test', 'Policy Guest');
    await createMember(t, admin, 'Policy Member');
    guest = { session: await t.signIn('policy.guest@fabrikam.test', MEMBER_PASSWORD) };
    member = { session: await t.signIn('policymember@contoso.test', MEMBER_PASSWORD) };
  });
  afterAll(() => t.close());

  const policy = async (caller: Caller = admin) => {
    const res = await call(t, caller, { method: 'GET', url: '/v1.0/policies/authorizationPolicy' });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const patch = (payload: Record<string, unknown>, caller: Caller = admin) =>
    call(t, caller, { method: 'PATCH', url: '/v1.0/policies/authorizationPolicy', payload });
  const policyAudits = async () => {
    const token = await t.clientToken(['AuditLog.Read.All']);
    const res = await call(
      t,
      { token },
      { method: 'GET', url: `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent("activityDisplayName eq 'Update policy'")}` },
    );
    return res.json().value as Audit[];
  };

  it('reads the defaults: everyone may invite, guests have limited access', async () => {
    expect(await policy()).toEqual({
      '@odata.context': 'http://foyer.test/v1.0/$metadata#policies/authorizationPolicy/$entity',
      id: 'authorizationPolicy',
      displayName: 'Authorization Policy',
      description: expect.any(String),
      allowInvitesFrom: 'everyone',
      guestUserRoleId: GUESTS_LIMITED,
      allowedToSignUpEmailBasedSubscriptions: false,
    });
    expect((await policy(member)).allowInvitesFrom).toBe('everyone');
  });

  it('PATCH answers 204, the change reads back, and it is audited as Update policy with old and new values', async () => {
    const res = await patch({ allowInvitesFrom: 'adminsAndGuestInviters' });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await policy()).toMatchObject({ allowInvitesFrom: 'adminsAndGuestInviters', guestUserRoleId: GUESTS_LIMITED });
    const [entry, ...more] = await policyAudits();
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ category: 'Policy', operationType: 'Update', initiatedBy: { user: { id: t.admin.id } } });
    expect(entry!.targetResources[0]!.modifiedProperties).toEqual([
      { displayName: 'allowInvitesFrom', oldValue: JSON.stringify('everyone'), newValue: JSON.stringify('adminsAndGuestInviters') },
    ]);
    // Found by its target too, as Graph names it.
    const token = await t.clientToken(['AuditLog.Read.All']);
    const byTarget = await call(
      t,
      { token },
      {
        method: 'GET',
        url: `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent("targetResources/any(t: t/id eq 'authorizationPolicy')")}`,
      },
    );
    expect(byTarget.json().value.map((a: Audit) => a.id)).toEqual([entry!.id]);
  });

  it('refuses bad values, unknown and read-only properties, and changes nothing', async () => {
    const before = await policy();
    const auditsBefore = (await policyAudits()).length;
    for (const body of [
      { allowInvitesFrom: 'nobody' },
      { guestUserRoleId: randomUUID() },
      { allowInvitesFrom: 'everyone', favourite: true },
      { id: 'other' },
      { displayName: 'Renamed' },
      {},
      { allowedToSignUpEmailBasedSubscriptions: 'yes' },
    ]) {
      const res = await patch(body);
      expectGraphError(res, 400, 'Request_BadRequest');
    }
    expect((await patch({ id: 'other' })).json().error.message).toMatch(/read-only/);
    expect((await patch({ allowInvitesFrom: 'everyone', favourite: true })).json().error.message).toMatch(/favourite/);
    expect(await policy()).toEqual(before);
    expect(await policyAudits()).toHaveLength(auditsBefore);
  });

  it('only a Global Administrator or Directory.ReadWrite.All may change it', async () => {
    expectGraphError(await patch({ allowInvitesFrom: 'none' }, member), 403, 'Authorization_RequestDenied');
    const reader = { token: await t.clientToken(['Directory.Read.All']) };
    expect((await policy(reader)).id).toBe('authorizationPolicy');
    expectGraphError(await patch({ allowInvitesFrom: 'none' }, reader), 403, 'Authorization_RequestDenied');
    const usersApp = { token: await t.clientToken(['User.ReadWrite.All']) };
    expectGraphError(await patch({ allowInvitesFrom: 'none' }, usersApp), 403, 'Authorization_RequestDenied');
    const writer = { token: await t.clientToken(['Directory.ReadWrite.All']) };
    expect((await patch({ allowInvitesFrom: 'adminsGuestInvitersAndAllMembers' }, writer)).statusCode).toBe(204);
    expect((await policy()).allowInvitesFrom).toBe('adminsGuestInvitersAndAllMembers');
  });

  it('guestUserRoleId decides at once what a signed-in guest may see', async () => {
    // Limited (default): not the user list.
    expectGraphError(await call(t, guest, { method: 'GET', url: '/v1.0/users' }), 403, 'Authorization_RequestDenied');
    expect((await patch({ guestUserRoleId: GUESTS_AS_MEMBERS })).statusCode).toBe(204);
    const list = await call(t, guest, { method: 'GET', url: '/v1.0/users' });
    expect(list.statusCode).toBe(200);
    expect(list.json().value.length).toBe(3);
    expect((await call(t, guest, { method: 'GET', url: `/v1.0/users/${t.admin.id}` })).statusCode).toBe(200);

    expect((await patch({ guestUserRoleId: GUESTS_RESTRICTED })).statusCode).toBe(204);
    expectGraphError(await call(t, guest, { method: 'GET', url: '/v1.0/users' }), 403, 'Authorization_RequestDenied');
    expectGraphError(await call(t, guest, { method: 'GET', url: '/v1.0/groups' }), 403, 'Authorization_RequestDenied');
    expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/users/${t.admin.id}` }), 404, 'Request_ResourceNotFound');
    expect((await call(t, guest, { method: 'GET', url: '/v1.0/me' })).statusCode).toBe(200);
    // Guests never change the policy.
    expectGraphError(await patch({ guestUserRoleId: GUESTS_AS_MEMBERS }, guest), 403, 'Authorization_RequestDenied');
  });
});

describe(`directory roles (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let helper: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    helper = await createMember(t, admin, 'Role Holder');
  });
  afterAll(() => t.close());

  const assign = (role: string, userId: string, caller: Caller = admin) =>
    call(t, caller, { method: 'POST', url: `/v1.0/directoryRoles/${role}/members/$ref`, payload: ref(userId) });
  const unassign = (role: string, userId: string, caller: Caller = admin) =>
    call(t, caller, { method: 'DELETE', url: `/v1.0/directoryRoles/${role}/members/${userId}/$ref` });
  const holders = async (role: string) =>
    (await followPages(t, admin, `/v1.0/directoryRoles/${role}/members`)).flatMap((p) => p.value.map((u) => u.id as string)).sort();
  const newUser = (n: number) => ({
    accountEnabled: true,
    displayName: `Made By Helper ${n}`,
    mailNickname: `helper${n}`,
    userPrincipalName: `helper${n}@contoso.test`,
    passwordProfile: { password: MEMBER_PASSWORD },
  });

  it('lists the roles Foyer enforces, with their template ids', async () => {
    const res = await call(t, admin, { method: 'GET', url: '/v1.0/directoryRoles' });
    expect(res.statusCode).toBe(200);
    expect(res.json()['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#directoryRoles');
    const roles = res.json().value as { id: string; displayName: string; roleTemplateId: string }[];
    expect(roles.map((r) => [r.roleTemplateId, r.displayName]).sort()).toEqual(
      [
        [GLOBAL_ADMIN, 'Global Administrator'],
        [USER_ADMIN, 'User Administrator'],
        [GUEST_INVITER, 'Guest Inviter'],
        [HELPDESK_ADMIN, 'Helpdesk Administrator'],
        ['9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', 'Application Administrator'],
        ['158c047a-c907-4556-b7ef-446551a6b5f7', 'Cloud Application Administrator'],
      ].sort(),
    );
    expect(await holders(GLOBAL_ADMIN)).toEqual([t.admin.id]);
    const reader = { token: await t.clientToken(['Directory.Read.All']) };
    expect((await call(t, reader, { method: 'GET', url: '/v1.0/directoryRoles' })).statusCode).toBe(200);
  });

  it('assigning User Administrator (204) lets the member manage users, but not a Global Administrator; removing it (204) takes that away', async () => {
    const session = { session: await t.signIn('roleholder@contoso.test', MEMBER_PASSWORD) };
    expectGraphError(await call(t, session, { method: 'POST', url: '/v1.0/users', payload: newUser(1) }), 403, 'Authorization_RequestDenied');

    const res = await assign(USER_ADMIN, helper);
    expect(res.statusCode).toBe(204);
    expect(await holders(USER_ADMIN)).toEqual([helper]);
    const memberOf = (await call(t, admin, { method: 'GET', url: `/v1.0/users/${helper}/memberOf` })).json().value;
    expect(memberOf).toEqual([expect.objectContaining({ '@odata.type': '#microsoft.graph.directoryRole', roleTemplateId: USER_ADMIN })]);
    expectGraphError(
      await assign(USER_ADMIN, helper),
      400,
      'Request_BadRequest',
      "One or more added object references already exist for the following modified properties: 'members'.",
    );

    // Roles are read with the session, so the new role counts at once.
    expect((await call(t, session, { method: 'POST', url: '/v1.0/users', payload: newUser(2) })).statusCode).toBe(201);
    expectGraphError(
      await call(t, session, { method: 'PATCH', url: `/v1.0/users/${t.admin.id}`, payload: { jobTitle: 'Demoted' } }),
      403,
      'Authorization_RequestDenied',
    );

    t.clock.advance(1_000);
    expect((await unassign(USER_ADMIN, helper)).statusCode).toBe(204);
    expect(await holders(USER_ADMIN)).toEqual([]);
    expectGraphError(await call(t, session, { method: 'POST', url: '/v1.0/users', payload: newUser(3) }), 403, 'Authorization_RequestDenied');
    expectGraphError(await unassign(USER_ADMIN, helper), 404, 'Request_ResourceNotFound');

    const auditor = { token: await t.clientToken(['AuditLog.Read.All']) };
    const entries = await call(t, auditor, {
      method: 'GET',
      url: `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent(`targetResources/any(t: t/id eq '${USER_ADMIN}')`)}`,
    });
    expect(entries.json().value.map((a: Audit) => a.activityDisplayName)).toEqual(['Remove member from role', 'Add member to role']);
  });

  it('refuses unknown roles and users, apps, and non-administrators', async () => {
    expectGraphError(await assign(randomUUID(), helper), 404, 'Request_ResourceNotFound');
    const ghost = randomUUID();
    expectGraphError(await assign(GUEST_INVITER, ghost), 404, 'Request_ResourceNotFound', new RegExp(ghost));
    const app = { token: await t.clientToken(['Directory.ReadWrite.All']) };
    expectGraphError(await assign(GUEST_INVITER, helper, app), 403, 'Authorization_RequestDenied');
    const member = { session: await t.signIn('roleholder@contoso.test', MEMBER_PASSWORD) };
    expectGraphError(await assign(GUEST_INVITER, helper, member), 403, 'Authorization_RequestDenied');
    expect(await holders(GUEST_INVITER)).toEqual([]);
  });

  it('keeps the last Global Administrator', async () => {
    expectGraphError(await unassign(GLOBAL_ADMIN, t.admin.id), 400, 'Request_BadRequest');
    expectGraphError(await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${t.admin.id}` }), 400, 'Request_BadRequest');
    expect(await holders(GLOBAL_ADMIN)).toEqual([t.admin.id]);
    // With a second one, the first may go.
    expect((await assign(GLOBAL_ADMIN, helper)).statusCode).toBe(204);
    expect((await unassign(GLOBAL_ADMIN, t.admin.id)).statusCode).toBe(204);
    expect(await holders(GLOBAL_ADMIN)).toEqual([helper]);
  });
});
