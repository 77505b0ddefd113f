import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createDeletedItemsService } from '../src/directory/deleted-items.service.js';
import {
  TEST_SECRET,
  call,
  createGuest,
  createMember,
  createTestApp,
  expectGraphError,
  followPages,
  testEngine,
  type Caller,
  type TestApp,
} from './helpers/test-app.js';

const DAY = 86_400_000;

describe(`deleted items (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { token: await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All']) };
  });
  afterAll(() => t.close());

  const bind = (...ids: string[]) => ids.map((i) => `http://foyer.test/v1.0/directoryObjects/${i}`);
  async function createGroup(displayName: string, members: string[] = [], owners: string[] = []): Promise<string> {
    const res = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/groups',
      payload: {
        displayName,
        mailNickname: displayName.toLowerCase().replace(/[^a-z0-9]/g, ''),
        mailEnabled: false,
        securityEnabled: true,
        ...(members.length ? { 'members@odata.bind': bind(...members) } : {}),
        ...(owners.length ? { 'owners@odata.bind': bind(...owners) } : {}),
      },
    });
    if (res.statusCode !== 201) throw new Error(`create group: ${res.statusCode} ${res.body}`);
    return res.json().id;
  }
  const related = async (groupId: string, relation: 'members' | 'owners') =>
    (await followPages(t, admin, `/v1.0/groups/${groupId}/${relation}`)).flatMap((p) => p.value.map((u) => u.id as string)).sort();
  const deletedIds = async (kind: 'user' | 'group', caller: Caller = admin) =>
    (await followPages(t, caller, `/v1.0/directory/deletedItems/microsoft.graph.${kind}`)).flatMap((p) => p.value.map((o) => o.id as string));
  const del = (url: string) => call(t, admin, { method: 'DELETE', url });
  const restore = (id: string, caller: Caller = admin) => call(t, caller, { method: 'POST', url: `/v1.0/directory/deletedItems/${id}/restore` });

  it('a deleted user is listed under microsoft.graph.user with its deletedDateTime, newest first, and readable by id', async () => {
    const first = await createMember(t, admin, 'First Deleted');
    const second = await createGuest(t, admin, 'second@fabrikam.test', 'Second Deleted');
    const firstAt = t.clock.now().toISOString();
    expect((await del(`/v1.0/users/${first}`)).statusCode).toBe(204);
    t.clock.advance(60_000);
    const secondAt = t.clock.now().toISOString();
    expect((await del(`/v1.0/users/${second}`)).statusCode).toBe(204);

    const res = await call(t, admin, { method: 'GET', url: '/v1.0/directory/deletedItems/microsoft.graph.user' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#directory/deletedItems/microsoft.graph.user');
    const listed = body.value.filter((u: { id: string }) => [first, second].includes(u.id));
    expect(listed.map((u: { id: string }) => u.id)).toEqual([second, first]);
    expect(listed[0]).toMatchObject({ displayName: 'Second Deleted', deletedDateTime: secondAt });
    expect(listed[1]).toMatchObject({ displayName: 'First Deleted', userPrincipalName: 'firstdeleted@contoso.test', deletedDateTime: firstAt });

    const one = await call(t, admin, { method: 'GET', url: `/v1.0/directory/deletedItems/${first}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ '@odata.type': '#microsoft.graph.user', id: first, deletedDateTime: firstAt });
    // Deleted users are not users any more, and not in the group list either.
    expect(await deletedIds('group')).not.toContain(first);
    expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/users/${first}` }), 404, 'Request_ResourceNotFound');
  });

  it('pages the deleted users with nextLink, most recently deleted first', async () => {
    const ids: string[] = [];
    for (const name of ['Page A', 'Page B', 'Page C']) {
      const id = await createMember(t, admin, name);
      t.clock.advance(1_000);
      expect((await del(`/v1.0/users/${id}`)).statusCode).toBe(204);
      ids.push(id);
    }
    const pages = await followPages(t, admin, '/v1.0/directory/deletedItems/microsoft.graph.user?$top=1&$select=displayName,deletedDateTime');
    const seen = pages.flatMap((p) => p.value);
    expect(new Set(seen.map((u) => u.id)).size).toBe(seen.length);
    expect(seen.slice(0, 3).map((u) => u.id)).toEqual([...ids].reverse());
    expect(pages[0]!['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#directory/deletedItems/microsoft.graph.user(displayName,deletedDateTime)');
    const times = seen.map((u) => u.deletedDateTime as string);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('restoring a user (200) brings back its id, its group memberships and its ownerships', async () => {
    const keeper = await createMember(t, admin, 'Keeper');
    const returning = await createMember(t, admin, 'Returning User', { jobTitle: 'Analyst' });
    const team = await createGroup('Returning team', [returning, keeper]);
    const owned = await createGroup('Returning owns', [keeper], [returning]);
    expect((await del(`/v1.0/users/${returning}`)).statusCode).toBe(204);
    expect(await related(team, 'members')).toEqual([keeper]);
    expect(await related(owned, 'owners')).toEqual([]);

    const res = await restore(returning);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ '@odata.type': '#microsoft.graph.user', id: returning, displayName: 'Returning User', jobTitle: 'Analyst' });

    expect((await call(t, admin, { method: 'GET', url: `/v1.0/users/${returning}` })).statusCode).toBe(200);
    expect(await related(team, 'members')).toEqual([keeper, returning].sort());
    expect(await related(owned, 'owners')).toEqual([returning]);
    const memberOf = (await call(t, admin, { method: 'GET', url: `/v1.0/users/${returning}/memberOf` })).json().value.map((g: { id: string }) => g.id);
    expect(memberOf).toEqual([team]);
    expect(await deletedIds('user')).not.toContain(returning);
    expectGraphError(await restore(returning), 404, 'Request_ResourceNotFound');
  });

  it('a deleted group is listed under microsoft.graph.group and restores with its members and owners', async () => {
    const m1 = await createMember(t, admin, 'Group Member One');
    const m2 = await createMember(t, admin, 'Group Owner Two');
    const group = await createGroup('Comes back', [m1, m2], [m2]);
    expect((await del(`/v1.0/groups/${group}`)).statusCode).toBe(204);
    expect(await deletedIds('group')).toContain(group);
    expect(await deletedIds('user')).not.toContain(group);
    const item = await call(t, admin, { method: 'GET', url: `/v1.0/directory/deletedItems/${group}` });
    expect(item.json()).toMatchObject({ '@odata.type': '#microsoft.graph.group', id: group, displayName: 'Comes back' });
    expect(item.json().deletedDateTime).toBe(t.clock.now().toISOString());
    // Its members no longer count it.
    expect((await call(t, admin, { method: 'GET', url: `/v1.0/users/${m1}/memberOf` })).json().value).toEqual([]);

    const res = await restore(group);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ '@odata.type': '#microsoft.graph.group', id: group, deletedDateTime: null });
    expect(await related(group, 'members')).toEqual([m1, m2].sort());
    expect(await related(group, 'owners')).toEqual([m2]);
    expect((await call(t, admin, { method: 'GET', url: `/v1.0/users/${m1}/memberOf` })).json().value.map((g: { id: string }) => g.id)).toEqual([group]);
  });

  it('a permanent delete (204) removes the object and its memberships for good', async () => {
    const doomed = await createMember(t, admin, 'Doomed User');
    const group = await createGroup('Had a doomed member', [doomed], [doomed]);
    expect((await del(`/v1.0/users/${doomed}`)).statusCode).toBe(204);
    // A live object is not a deleted item.
    expectGraphError(await del(`/v1.0/directory/deletedItems/${group}`), 404, 'Request_ResourceNotFound');

    expect((await del(`/v1.0/directory/deletedItems/${doomed}`)).statusCode).toBe(204);
    expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/directory/deletedItems/${doomed}` }), 404, 'Request_ResourceNotFound');
    expectGraphError(await restore(doomed), 404, 'Request_ResourceNotFound');
    expectGraphError(await del(`/v1.0/directory/deletedItems/${doomed}`), 404, 'Request_ResourceNotFound');
    expect(await deletedIds('user')).not.toContain(doomed);
    const rows = await t.database.db.selectFrom('group_memberships').select('user_id').where('user_id', '=', doomed).execute();
    expect(rows).toEqual([]);
    expect((await t.database.db.selectFrom('users').select('id').where('id', '=', doomed).execute()).length).toBe(0);
  });

  it('refuses to restore a user whose userPrincipalName was taken meanwhile, and keeps it restorable', async () => {
    const original = await createMember(t, admin, 'Taken Name');
    expect((await del(`/v1.0/users/${original}`)).statusCode).toBe(204);
    const newcomer = await createMember(t, admin, 'Taken Name');
    expect(newcomer).not.toBe(original);
    expectGraphError(await restore(original), 400, 'Request_BadRequest', /userPrincipalName/);
    expect(await deletedIds('user')).toContain(original);
    expect((await call(t, admin, { method: 'GET', url: '/v1.0/users/takenname%40contoso.test' })).json().id).toBe(newcomer);
    // Free the name, then the restore goes through.
    expect((await del(`/v1.0/users/${newcomer}`)).statusCode).toBe(204);
    expect((await restore(original)).statusCode).toBe(200);
    expect((await call(t, admin, { method: 'GET', url: '/v1.0/users/takenname%40contoso.test' })).json().id).toBe(original);
  });

  it('answers 400 for an unknown type segment and 404 quoting the id for unknown items', async () => {
    expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/directory/deletedItems/microsoft.graph.device' }), 400, 'Request_BadRequest');
    const ghost = randomUUID();
    const msg = `Resource '${ghost}' does not exist or one of its queried reference-property objects are not present.`;
    expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/directory/deletedItems/${ghost}` }), 404, 'Request_ResourceNotFound', msg);
    expectGraphError(await restore(ghost), 404, 'Request_ResourceNotFound', msg);
    expectGraphError(await del(`/v1.0/directory/deletedItems/${ghost}`), 404, 'Request_ResourceNotFound', msg);
    const live = await createMember(t, admin, 'Alive And Well');
    expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/directory/deletedItems/${live}` }), 404, 'Request_ResourceNotFound');
    expectGraphError(await restore(live), 404, 'Request_ResourceNotFound');
  });

  it('needs the matching permission per kind: user permissions for users, group permissions for groups', async () => {
    const user = await createMember(t, admin, 'Permission Probe');
    const group = await createGroup('Permission probe group');
    expect((await del(`/v1.0/users/${user}`)).statusCode).toBe(204);
    expect((await del(`/v1.0/groups/${group}`)).statusCode).toBe(204);

    const groupsOnly = { token: await t.clientToken(['Group.ReadWrite.All']) };
    expectGraphError(
      await call(t, groupsOnly, { method: 'GET', url: '/v1.0/directory/deletedItems/microsoft.graph.user' }),
      403,
      'Authorization_RequestDenied',
    );
    expectGraphError(await restore(user, groupsOnly), 403, 'Authorization_RequestDenied');
    expectGraphError(await call(t, groupsOnly, { method: 'DELETE', url: `/v1.0/directory/deletedItems/${user}` }), 403, 'Authorization_RequestDenied');
    const userReader = { token: await t.clientToken(['User.Read.All']) };
    expect((await call(t, userReader, { method: 'GET', url: '/v1.0/directory/deletedItems/microsoft.graph.user' })).statusCode).toBe(200);
    expectGraphError(await restore(user, userReader), 403, 'Authorization_RequestDenied');
    expect(await deletedIds('user')).toContain(user);

    expect((await restore(group, groupsOnly)).statusCode).toBe(200);
    expect((await call(t, admin, { method: 'GET', url: `/v1.0/groups/${group}` })).statusCode).toBe(200);
  });
});

describe(`scheduled purge of deleted items (${testEngine})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('purges what was deleted more than 30 days ago and keeps what is younger; running again purges nothing', async () => {
    let admin: Caller = { token: await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All']) };
    const old = await createMember(t, admin, 'Old Deleted');
    const young = await createMember(t, admin, 'Young Deleted');
    const bystander = await createMember(t, admin, 'Bystander');
    const group = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/groups',
      payload: {
        displayName: 'Old group',
        mailNickname: 'oldgroup',
        mailEnabled: false,
        securityEnabled: true,
        'members@odata.bind': [`http://foyer.test/v1.0/directoryObjects/${young}`, `http://foyer.test/v1.0/directoryObjects/${bystander}`],
      },
    });
    const oldGroup = group.json().id as string;
    const team = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/groups',
      payload: {
        displayName: 'Live team',
        mailNickname: 'liveteam',
        mailEnabled: false,
        securityEnabled: true,
        'members@odata.bind': [`http://foyer.test/v1.0/directoryObjects/${young}`],
      },
    });
    const liveTeam = team.json().id as string;

    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${old}` })).statusCode).toBe(204);
    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${oldGroup}` })).statusCode).toBe(204);
    t.clock.advance(2 * DAY);
    // Access tokens last an hour; this clock moves in days.
    admin = { token: await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All']) };
    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${young}` })).statusCode).toBe(204);

    const purger = createDeletedItemsService({ db: t.database.db, engine: t.database.engine, clock: t.clock, secret: TEST_SECRET });
    // Nothing is old enough yet.
    expect(await purger.purgeExpired()).toBe(0);

    t.clock.advance(29 * DAY); // old: 31 days, young: 29 days
    expect(await purger.purgeExpired()).toBe(2);
    expect(await purger.purgeExpired()).toBe(0);

    admin = { token: await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All']) };
    for (const gone of [old, oldGroup])
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/directory/deletedItems/${gone}` }), 404, 'Request_ResourceNotFound');
    const users = (await followPages(t, admin, '/v1.0/directory/deletedItems/microsoft.graph.user')).flatMap((p) => p.value.map((u) => u.id));
    expect(users).toEqual([young]);
    const groups = (await followPages(t, admin, '/v1.0/directory/deletedItems/microsoft.graph.group')).flatMap((p) => p.value);
    expect(groups).toEqual([]);

    // The young one is still whole: restoring brings its membership back.
    expect((await call(t, admin, { method: 'POST', url: `/v1.0/directory/deletedItems/${young}/restore` })).statusCode).toBe(200);
    const members = (await followPages(t, admin, `/v1.0/groups/${liveTeam}/members`)).flatMap((p) => p.value.map((u) => u.id));
    expect(members).toEqual([young]);
    expect((await call(t, admin, { method: 'GET', url: `/v1.0/users/${bystander}` })).statusCode).toBe(200);

    // The purge is recorded, by Foyer itself.
    const audits = await t.clientToken(['AuditLog.Read.All']);
    const hard = await call(
      t,
      { token: audits },
      { method: 'GET', url: `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent("activityDisplayName eq 'Hard Delete user'")}` },
    );
    expect(hard.json().value).toHaveLength(1);
    expect(hard.json().value[0]).toMatchObject({
      targetResources: [expect.objectContaining({ id: old })],
      initiatedBy: { app: expect.objectContaining({ displayName: 'Foyer' }) },
    });
  });
});
