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
  type TestApp,
} from './helpers/test-app.js';

const ALREADY_MEMBER = "One or more added object references already exist for the following modified properties: 'members'.";
const ALREADY_OWNER = "One or more added object references already exist for the following modified properties: 'owners'.";

describe(`groups API (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  const user: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp();
    admin = { token: await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All']) };
    for (const name of ['Ann', 'Ben', 'Cas', 'Dirk', 'Els', 'Fay']) user[name.toLowerCase()] = await createMember(t, admin, `${name} Member`);
    user.guest = await createGuest(t, admin, 'gus@fabrikam.test', 'Gus Guest');
  });
  afterAll(() => t.close());

  const ref = (userId: string, base = 'http://foyer.test') => ({ '@odata.id': `${base}/v1.0/directoryObjects/${userId}` });
  const bind = (...ids: string[]) => ids.map((i) => `https://graph.microsoft.com/v1.0/directoryObjects/${i}`);

  async function createGroup(displayName: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/groups',
      payload: { displayName, mailNickname: displayName.toLowerCase().replace(/[^a-z0-9]/g, ''), mailEnabled: false, securityEnabled: true, ...extra },
    });
    if (res.statusCode !== 201) throw new Error(`create group: ${res.statusCode} ${res.body}`);
    return res.json().id;
  }
  const related = async (groupId: string, relation: 'members' | 'owners', caller: Caller = admin) => {
    const pages = await followPages(t, caller, `/v1.0/groups/${groupId}/${relation}`);
    return pages.flatMap((p) => p.value.map((u) => u.id as string)).sort();
  };
  const groupCount = async () => (await followPages(t, admin, '/v1.0/groups?$top=999')).flatMap((p) => p.value).length;
  const sorted = (...ids: string[]) => [...ids].sort();

  describe('create, read, update, delete', () => {
    it('creates a security group and a Microsoft 365 group (201) with Graph shapes', async () => {
      const res = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/groups',
        payload: { displayName: 'Partners', description: 'External partners', mailNickname: 'partners', mailEnabled: false, securityEnabled: true },
      });
      expect(res.statusCode).toBe(201);
      const group = res.json();
      expect(group).toMatchObject({
        '@odata.context': 'http://foyer.test/v1.0/$metadata#groups/$entity',
        displayName: 'Partners',
        description: 'External partners',
        mailNickname: 'partners',
        mailEnabled: false,
        securityEnabled: true,
        groupTypes: [],
        mail: null,
        createdDateTime: t.clock.now().toISOString(),
        deletedDateTime: null,
      });
      const read = await call(t, admin, { method: 'GET', url: `/v1.0/groups/${group.id}` });
      expect(read.statusCode).toBe(200);
      expect(read.json()).toEqual(group);

      const unified = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/groups',
        payload: { displayName: 'Project X', mailNickname: 'ProjectX', mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'] },
      });
      expect(unified.statusCode).toBe(201);
      expect(unified.json()).toMatchObject({ groupTypes: ['Unified'], mail: 'projectx@contoso.test', visibility: 'Public', mailEnabled: true });
    });

    it('creates a group with members and owners bound in the same request', async () => {
      const res = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/groups',
        payload: {
          displayName: 'Bound at birth',
          mailNickname: 'bound',
          mailEnabled: false,
          securityEnabled: true,
          'members@odata.bind': bind(user.ann!, user.guest!),
          'owners@odata.bind': bind(user.ben!),
        },
      });
      expect(res.statusCode).toBe(201);
      expect(await related(res.json().id, 'members')).toEqual(sorted(user.ann!, user.guest!));
      expect(await related(res.json().id, 'owners')).toEqual([user.ben]);
    });

    it('refuses group kinds Foyer cannot make, and writes nothing', async () => {
      const before = await groupCount();
      const bad = [
        { mailEnabled: false, securityEnabled: false, groupTypes: ['Unified'] },
        { mailEnabled: true, securityEnabled: true },
        { mailEnabled: false, securityEnabled: false },
        { mailEnabled: false, securityEnabled: true, groupTypes: ['DynamicMembership'] },
        { mailEnabled: false, securityEnabled: true, 'members@odata.bind': bind(user.ann!, randomUUID()) },
        { mailEnabled: false, securityEnabled: true, 'owners@odata.bind': bind(user.guest!) },
      ];
      for (const extra of bad) {
        const res = await call(t, admin, { method: 'POST', url: '/v1.0/groups', payload: { displayName: 'Nope', mailNickname: 'nope', ...extra } });
        expect([400, 404], JSON.stringify(extra)).toContain(res.statusCode);
        expect(res.json().error.code).toMatch(/^Request_/);
      }
      expect(await groupCount()).toBe(before);
    });

    it('lists groups with $filter, $select and paging', async () => {
      const ids = [await createGroup('Paging One'), await createGroup('Paging Two'), await createGroup('Paging Three')];
      const pages = await followPages(t, admin, `/v1.0/groups?$filter=${encodeURIComponent("startsWith(displayName,'paging')")}&$top=2&$select=displayName`);
      expect(pages).toHaveLength(2);
      expect(pages[0]!['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#groups(displayName)');
      const seen = pages.flatMap((p) => p.value);
      expect(seen.map((g) => g.id).sort()).toEqual(sorted(...ids));
      expect(seen[0]).not.toHaveProperty('mailNickname');
    });

    it('$search finds groups by word prefix in displayName or description, taking % and _ literally, with the header only', async () => {
      const plan = await createGroup('50% Plan_B', { description: 'The secret backup' });
      const other = await createGroup('500 Reasons');
      const search = async (q: string) => {
        const res = await call(t, admin, { method: 'GET', url: `/v1.0/groups?$search=${encodeURIComponent(q)}`, headers: { consistencylevel: 'eventual' } });
        expect(res.statusCode, q).toBe(200);
        return res
          .json()
          .value.map((g: { id: string }) => g.id)
          .sort();
      };
      expect(await search('"displayName:50%"')).toEqual([plan]);
      expect(await search('"displayName:50"')).toEqual(sorted(plan, other));
      expect(await search('"displayName:plan_"')).toEqual([plan]);
      expect(await search('"displayName:plan%"')).toEqual([]);
      expect(await search('"description:secr"')).toEqual([plan]);
      expect(await search('"displayName:reasons" OR "description:backup"')).toEqual(sorted(plan, other));
      expectGraphError(
        await call(t, admin, { method: 'GET', url: `/v1.0/groups?$search=${encodeURIComponent('"displayName:50"')}` }),
        400,
        'Request_UnsupportedQuery',
      );
    });

    it('updates a group (204) and deletes it (204, then 404)', async () => {
      const id = await createGroup('Renamable');
      const patch = await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { displayName: 'Renamed', description: 'Now described' } });
      expect(patch.statusCode).toBe(204);
      expect((await call(t, admin, { method: 'GET', url: `/v1.0/groups/${id}` })).json()).toMatchObject({
        displayName: 'Renamed',
        description: 'Now described',
      });
      expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${id}` })).statusCode).toBe(204);
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/groups/${id}` }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/groups/${id}/members` }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${id}` }), 404, 'Request_ResourceNotFound');
      const list = await followPages(t, admin, `/v1.0/groups?$filter=${encodeURIComponent(`id eq '${id}'`)}`);
      expect(list[0]!.value).toEqual([]);
    });

    it('answers 404 with the id for unknown groups, and refuses read-only properties', async () => {
      const unknown = randomUUID();
      expectGraphError(
        await call(t, admin, { method: 'GET', url: `/v1.0/groups/${unknown}` }),
        404,
        'Request_ResourceNotFound',
        `Resource '${unknown}' does not exist or one of its queried reference-property objects are not present.`,
      );
      expectGraphError(
        await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${unknown}`, payload: { displayName: 'x' } }),
        404,
        'Request_ResourceNotFound',
      );
      const id = await createGroup('Read only');
      expectGraphError(
        await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { mail: 'x@contoso.test' } }),
        400,
        'Request_BadRequest',
        /read-only/,
      );
      expectGraphError(
        await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { id: randomUUID() } }),
        400,
        'Request_BadRequest',
        /read-only/,
      );
    });

    it('needs Group.ReadWrite.All to write and a group permission to read', async () => {
      const id = await createGroup('Guarded');
      const reader = { token: await t.clientToken(['Group.Read.All']) };
      expect((await call(t, reader, { method: 'GET', url: `/v1.0/groups/${id}` })).statusCode).toBe(200);
      expectGraphError(
        await call(t, reader, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { displayName: 'x' } }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(
        await call(t, reader, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(user.ann!) }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(await call(t, reader, { method: 'DELETE', url: `/v1.0/groups/${id}` }), 403, 'Authorization_RequestDenied');
      const usersOnly = { token: await t.clientToken(['User.Read.All']) };
      expectGraphError(await call(t, usersOnly, { method: 'GET', url: '/v1.0/groups' }), 403, 'Authorization_RequestDenied');
    });
  });

  describe('members and owners by $ref', () => {
    it('adds a member (204), lists it as a user, refuses it twice, and removes it (204, then 404)', async () => {
      const id = await createGroup('Refs');
      const add = await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(user.ann!) });
      expect(add.statusCode).toBe(204);
      expect(add.body).toBe('');

      const members = await call(t, admin, { method: 'GET', url: `/v1.0/groups/${id}/members` });
      expect(members.json()['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#directoryObjects');
      expect(members.json().value).toEqual([expect.objectContaining({ '@odata.type': '#microsoft.graph.user', id: user.ann, displayName: 'Ann Member' })]);

      expectGraphError(
        await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(user.ann!) }),
        400,
        'Request_BadRequest',
        ALREADY_MEMBER,
      );
      // The Graph host in the reference works the same as ours (SDKs send it).
      expectGraphError(
        await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(user.ann!, 'https://graph.microsoft.com') }),
        400,
        'Request_BadRequest',
        ALREADY_MEMBER,
      );
      expect(await related(id, 'members')).toEqual([user.ann]);

      expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${id}/members/${user.ann}/$ref` })).statusCode).toBe(204);
      expect(await related(id, 'members')).toEqual([]);
      expectGraphError(await call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${id}/members/${user.ann}/$ref` }), 404, 'Request_ResourceNotFound');
    });

    it('answers 404 for an unknown user or group and 400 for a reference that is not an object id', async () => {
      const id = await createGroup('Unknowns');
      const ghost = randomUUID();
      expectGraphError(
        await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(ghost) }),
        404,
        'Request_ResourceNotFound',
        new RegExp(ghost),
      );
      expectGraphError(
        await call(t, admin, { method: 'POST', url: `/v1.0/groups/${randomUUID()}/members/$ref`, payload: ref(user.ann!) }),
        404,
        'Request_ResourceNotFound',
      );
      expectGraphError(
        await call(t, admin, {
          method: 'POST',
          url: `/v1.0/groups/${id}/members/$ref`,
          payload: { '@odata.id': 'http://foyer.test/v1.0/directoryObjects/not-a-guid' },
        }),
        400,
        'Request_BadRequest',
      );
      expectGraphError(await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: { id: user.ann } }), 400, 'Request_BadRequest');
      expectGraphError(await call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${id}/members/${ghost}/$ref` }), 404, 'Request_ResourceNotFound');
      expect(await related(id, 'members')).toEqual([]);
    });

    it('adds owners the same way; a guest cannot be an owner', async () => {
      const id = await createGroup('Owned');
      expect((await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/owners/$ref`, payload: ref(user.ben!) })).statusCode).toBe(204);
      expect(await related(id, 'owners')).toEqual([user.ben]);
      expect(await related(id, 'members')).toEqual([]);
      expectGraphError(
        await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/owners/$ref`, payload: ref(user.ben!) }),
        400,
        'Request_BadRequest',
        ALREADY_OWNER,
      );
      expectGraphError(await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/owners/$ref`, payload: ref(user.guest!) }), 400, 'Request_BadRequest');
      expect(await related(id, 'owners')).toEqual([user.ben]);
      expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/groups/${id}/owners/${user.ben}/$ref` })).statusCode).toBe(204);
      expect(await related(id, 'owners')).toEqual([]);
    });

    it('a guest can be a member, and members can be filtered and paged', async () => {
      const id = await createGroup('Mixed');
      for (const u of [user.ann!, user.ben!, user.cas!, user.guest!])
        expect((await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(u) })).statusCode).toBe(204);
      const guests = await followPages(t, admin, `/v1.0/groups/${id}/members?$filter=${encodeURIComponent("userType eq 'Guest'")}`);
      expect(guests.flatMap((p) => p.value.map((u) => u.id))).toEqual([user.guest]);
      const pages = await followPages(t, admin, `/v1.0/groups/${id}/members?$top=3`);
      expect(pages.map((p) => p.value.length)).toEqual([3, 1]);
      expect(new Set(pages.flatMap((p) => p.value.map((u) => u.id)))).toEqual(new Set([user.ann, user.ben, user.cas, user.guest]));
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/groups/${id}/members?$orderby=displayName` }), 400, 'Request_BadRequest');
    });

    it('the owners of a group manage its members; other members cannot', async () => {
      const id = await createGroup('Owner managed', { 'owners@odata.bind': bind(user.dirk!) });
      const other = await createGroup('Not theirs');
      const owner = { session: await t.signIn('dirkmember@contoso.test', MEMBER_PASSWORD) };
      expect((await call(t, owner, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(user.els!) })).statusCode).toBe(204);
      expect(await related(id, 'members')).toEqual([user.els]);
      expectGraphError(
        await call(t, owner, { method: 'POST', url: `/v1.0/groups/${other}/members/$ref`, payload: ref(user.els!) }),
        403,
        'Authorization_RequestDenied',
      );
      // Owning the members is not owning the group's properties.
      expectGraphError(
        await call(t, owner, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { displayName: 'Mine now' } }),
        403,
        'Authorization_RequestDenied',
      );

      const member = { session: await t.signIn('elsmember@contoso.test', MEMBER_PASSWORD) };
      expectGraphError(
        await call(t, member, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(user.fay!) }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(await call(t, member, { method: 'DELETE', url: `/v1.0/groups/${id}/members/${user.els}/$ref` }), 403, 'Authorization_RequestDenied');
      expect(await related(id, 'members')).toEqual([user.els]);
    });
  });

  describe('members@odata.bind', () => {
    it('adds up to 20 members in one PATCH (204)', async () => {
      const id = await createGroup('Bulk bind');
      const res = await call(t, admin, {
        method: 'PATCH',
        url: `/v1.0/groups/${id}`,
        payload: { 'members@odata.bind': bind(user.ann!, user.ben!, user.guest!) },
      });
      expect(res.statusCode).toBe(204);
      expect(await related(id, 'members')).toEqual(sorted(user.ann!, user.ben!, user.guest!));
    });

    it('is all or nothing: one existing member refuses the request and adds nobody', async () => {
      const id = await createGroup('All or nothing');
      expect((await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(user.ann!) })).statusCode).toBe(204);
      expectGraphError(
        await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { 'members@odata.bind': bind(user.ben!, user.ann!, user.cas!) } }),
        400,
        'Request_BadRequest',
        ALREADY_MEMBER,
      );
      expect(await related(id, 'members')).toEqual([user.ann]);

      // An unknown object refuses it too, and names the object.
      const ghost = randomUUID();
      expectGraphError(
        await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { 'members@odata.bind': bind(user.ben!, ghost) } }),
        404,
        'Request_ResourceNotFound',
        new RegExp(ghost),
      );
      expect(await related(id, 'members')).toEqual([user.ann]);

      // A property change in the same refused request is not applied either.
      const refused = await call(t, admin, {
        method: 'PATCH',
        url: `/v1.0/groups/${id}`,
        payload: { displayName: 'Should not stick', 'members@odata.bind': bind(user.cas!, user.ann!) },
      });
      expect(refused.statusCode).toBe(400);
      expect((await call(t, admin, { method: 'GET', url: `/v1.0/groups/${id}` })).json().displayName).toBe('All or nothing');
      expect(await related(id, 'members')).toEqual([user.ann]);
    });

    it('refuses more than 20 references', async () => {
      const id = await createGroup('Too many');
      const refs = bind(...Array.from({ length: 21 }, () => randomUUID()));
      expectGraphError(
        await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { 'members@odata.bind': refs } }),
        400,
        'Request_BadRequest',
      );
      expect(await related(id, 'members')).toEqual([]);
    });

    it('the same user twice in one request is added once', async () => {
      const id = await createGroup('Twice');
      const res = await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${id}`, payload: { 'members@odata.bind': bind(user.fay!, user.fay!) } });
      expect(res.statusCode).toBe(204);
      expect(await related(id, 'members')).toEqual([user.fay]);
    });
  });

  describe('memberOf and deleted users', () => {
    it('a user lists the groups it is a member of, not those it owns', async () => {
      const member = await createGroup('Cas is member', { 'members@odata.bind': bind(user.cas!) });
      await createGroup('Cas is owner', { 'owners@odata.bind': bind(user.cas!) });
      const res = await call(t, admin, { method: 'GET', url: `/v1.0/users/${user.cas}/memberOf` });
      const groupIds = (res.json().value as { id: string; '@odata.type': string }[])
        .filter((g) => g['@odata.type'] === '#microsoft.graph.group')
        .map((g) => g.id);
      expect(groupIds).toContain(member);
      // Exactly the groups whose members list holds the user.
      const all = (await followPages(t, admin, '/v1.0/groups?$top=999')).flatMap((p) => p.value.map((g) => g.id as string));
      const holding: string[] = [];
      for (const g of all) if ((await related(g, 'members')).includes(user.cas!)) holding.push(g);
      expect(groupIds.sort()).toEqual(holding.sort());
      const ownedAlso = (res.json().value as { displayName: string }[]).map((g) => g.displayName);
      expect(ownedAlso).not.toContain('Cas is owner');
    });

    it('a deleted member drops out of members and owners lists', async () => {
      const gone = await createMember(t, admin, 'Gone Soon');
      const id = await createGroup('Loses one', { 'members@odata.bind': bind(gone, user.ann!), 'owners@odata.bind': bind(gone) });
      expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${gone}` })).statusCode).toBe(204);
      expect(await related(id, 'members')).toEqual([user.ann]);
      expect(await related(id, 'owners')).toEqual([]);
      expectGraphError(await call(t, admin, { method: 'POST', url: `/v1.0/groups/${id}/members/$ref`, payload: ref(gone) }), 404, 'Request_ResourceNotFound');
    });
  });
});
