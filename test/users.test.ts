import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDirectory } from '../src/directory/seed.js';
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

const EVENTUAL = { consistencylevel: 'eventual' };
const GRAPH_DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'id',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
];

/** `/v1.0/users?$a=...&$b=...` with every value URL-encoded. */
function usersUrl(params: Record<string, string | number>, path = '/v1.0/users'): string {
  const query = Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
  return query ? `${path}?${query}` : path;
}

type User = Record<string, unknown> & { id: string; displayName: string };

describe(`users API (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  const id: Record<string, string> = {};
  const t0 = new Date('2026-11-01T09:00:00.000Z').getTime();
  const minute = 60_000;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { token: await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All']) };
    id.admin = t.admin.id;
    // One user a minute, so createdDateTime windows are exact.
    t.clock.set(new Date(t0 + 1 * minute));
    id.alice = await createMember(t, admin, 'Alice Walker', {
      givenName: 'Alice',
      surname: 'Walker',
      jobTitle: 'Engineer',
      otherMails: ['Alice.Private@fabrikam.test'],
    });
    t.clock.set(new Date(t0 + 2 * minute));
    id.bob = await createMember(t, admin, 'Bob Wassink');
    t.clock.set(new Date(t0 + 3 * minute));
    id.walter = await createMember(t, admin, 'Walter Wagenaar');
    t.clock.set(new Date(t0 + 4 * minute));
    id.carol = await createMember(t, admin, 'Carol Jansen');
    t.clock.set(new Date(t0 + 5 * minute));
    id.gina = await createGuest(t, admin, 'gina@fabrikam.test', 'Gina Bakker');
    t.clock.set(new Date(t0 + 6 * minute));
    const hank = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/users',
      payload: {
        accountEnabled: true,
        displayName: 'Hank Hill',
        mailNickname: 'wally_northwind.test#EXT#',
        userPrincipalName: 'wally_northwind.test#EXT#@contoso.test',
        mail: 'wally@northwind.test',
        userType: 'Guest',
        identities: [{ signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: 'wally@northwind.test' }],
        passwordProfile: { password: MEMBER_PASSWORD },
      },
    });
    expect(hank.statusCode).toBe(201);
    id.hank = hank.json().id;
    t.clock.set(new Date(t0 + 10 * minute));
  });
  afterAll(() => t.close());

  const nameOf = (userId: string) => Object.entries(id).find(([, v]) => v === userId)?.[0] ?? userId;

  /** The fixture names a list answers (all pages), sorted; fails on a non-200. */
  async function names(params: Record<string, string | number>, headers: Record<string, string> = {}): Promise<string[]> {
    const pages = await followPages(t, admin, usersUrl(params), headers);
    return pages.flatMap((p) => p.value.map((u) => nameOf(u.id as string))).sort();
  }
  /** The same in Graph's advanced query mode (header and $count=true). */
  const advanced = (params: Record<string, string | number>) => names({ ...params, $count: 'true' }, EVENTUAL);

  describe('/me and memberOf', () => {
    it('/me answers the signed-in person, with $select; an app token gets 400', async () => {
      const session = await t.signIn(t.admin.userPrincipalName, t.admin.password);
      const me = await call(t, { session }, { method: 'GET', url: '/v1.0/me' });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({
        id: t.admin.id,
        userPrincipalName: 'admin@contoso.test',
        '@odata.context': 'http://foyer.test/v1.0/$metadata#users/$entity',
      });
      const selected = await call(t, { session }, { method: 'GET', url: '/v1.0/me?$select=displayName,userType' });
      expect(selected.json()).toEqual({
        '@odata.context': 'http://foyer.test/v1.0/$metadata#users(displayName,userType)/$entity',
        id: t.admin.id,
        displayName: 'Administrator',
        userType: 'Member',
      });
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/me' }), 400, 'Request_BadRequest');
    });

    it('a guest sees itself but cannot list users or read people it shares nothing with', async () => {
      const session = await t.signIn('gina@fabrikam.test', MEMBER_PASSWORD);
      expect((await call(t, { session }, { method: 'GET', url: '/v1.0/me' })).json().id).toBe(id.gina);
      expect((await call(t, { session }, { method: 'GET', url: `/v1.0/users/${id.gina}` })).statusCode).toBe(200);
      expectGraphError(await call(t, { session }, { method: 'GET', url: '/v1.0/users' }), 403, 'Authorization_RequestDenied');
      expectGraphError(await call(t, { session }, { method: 'GET', url: `/v1.0/users/${id.admin}` }), 404, 'Request_ResourceNotFound');
    });

    it('memberOf lists the groups a user is a member of and its directory roles', async () => {
      const group = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/groups',
        payload: { displayName: 'Walkers', mailNickname: 'walkers', mailEnabled: false, securityEnabled: true },
      });
      expect(group.statusCode).toBe(201);
      const groupId = group.json().id as string;
      const add = await call(t, admin, {
        method: 'POST',
        url: `/v1.0/groups/${groupId}/members/$ref`,
        payload: { '@odata.id': `http://foyer.test/v1.0/directoryObjects/${id.alice}` },
      });
      expect(add.statusCode).toBe(204);

      const alice = await call(t, admin, { method: 'GET', url: `/v1.0/users/${id.alice}/memberOf` });
      expect(alice.statusCode).toBe(200);
      expect(alice.json()['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#directoryObjects');
      expect(alice.json().value).toEqual([expect.objectContaining({ '@odata.type': '#microsoft.graph.group', id: groupId, displayName: 'Walkers' })]);
      // By userPrincipalName as well.
      expect((await call(t, admin, { method: 'GET', url: '/v1.0/users/alicewalker%40contoso.test/memberOf' })).json().value).toHaveLength(1);

      const adminRoles = (await call(t, admin, { method: 'GET', url: `/v1.0/users/${id.admin}/memberOf` })).json().value;
      expect(adminRoles).toEqual([
        expect.objectContaining({
          '@odata.type': '#microsoft.graph.directoryRole',
          displayName: 'Global Administrator',
          roleTemplateId: '62e90394-69f5-4237-9190-012177145e10',
        }),
      ]);
      expect((await call(t, admin, { method: 'GET', url: `/v1.0/users/${id.bob}/memberOf` })).json().value).toEqual([]);
      expectGraphError(
        await call(t, admin, { method: 'GET', url: '/v1.0/users/00000000-0000-4000-8000-000000000000/memberOf' }),
        404,
        'Request_ResourceNotFound',
      );
    });
  });

  describe('$count', () => {
    it('/users/$count needs ConsistencyLevel: eventual and answers text/plain', async () => {
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/users/$count' }), 400, 'Request_BadRequest', '$count is not currently supported.');
      const total = (await followPages(t, admin, '/v1.0/users?$top=999'))[0]!.value.length;
      const res = await call(t, admin, { method: 'GET', url: '/v1.0/users/$count', headers: EVENTUAL });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toBe(String(total));
      const guests = await call(t, admin, { method: 'GET', url: usersUrl({ $filter: "userType eq 'Guest'" }, '/v1.0/users/$count'), headers: EVENTUAL });
      expect(guests.body).toBe('2');
      const searched = await call(t, admin, { method: 'GET', url: usersUrl({ $search: '"displayName:wa"' }, '/v1.0/users/$count'), headers: EVENTUAL });
      expect(searched.body).toBe('3');
    });

    it('$count=true adds @odata.count with the header and is silently ignored without it', async () => {
      const without = await call(t, admin, { method: 'GET', url: usersUrl({ $filter: "userType eq 'Guest'", $count: 'true' }) });
      expect(without.statusCode).toBe(200);
      expect(without.json()).not.toHaveProperty('@odata.count');
      expect(without.json().value).toHaveLength(2);
      const withHeader = await call(t, admin, { method: 'GET', url: usersUrl({ $filter: "userType eq 'Guest'", $count: 'true', $top: 1 }), headers: EVENTUAL });
      expect(withHeader.json()['@odata.count']).toBe(2);
      expect(withHeader.json().value).toHaveLength(1);
    });
  });

  describe('$select', () => {
    it('returns the selected properties and names them in @odata.context', async () => {
      const res = await call(t, admin, { method: 'GET', url: usersUrl({ $select: 'displayName,userType,otherMails', $filter: `id eq '${id.alice}'` }) });
      expect(res.statusCode).toBe(200);
      expect(res.json()['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#users(displayName,userType,otherMails)');
      const [alice] = res.json().value;
      expect(alice).toMatchObject({ displayName: 'Alice Walker', userType: 'Member', otherMails: ['Alice.Private@fabrikam.test'] });
      expect(alice).not.toHaveProperty('jobTitle');
      expect(alice).not.toHaveProperty('mail');
    });

    it('without $select answers exactly Graph default properties and a plain context', async () => {
      const res = await call(t, admin, { method: 'GET', url: '/v1.0/users' });
      expect(res.json()['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#users');
      for (const u of res.json().value as User[]) expect(Object.keys(u).sort()).toEqual(GRAPH_DEFAULT_USER_PROPERTIES);
    });

    it('refuses an unknown property', async () => {
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/users?$select=displayName,shoeSize' }), 400, 'Request_BadRequest', /shoeSize/);
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/users/${id.bob}?$select=shoeSize` }), 400, 'Request_BadRequest', /shoeSize/);
    });
  });

  describe('$filter', () => {
    const members = ['admin', 'alice', 'bob', 'carol', 'walter'];

    it('eq on userType and id', async () => {
      expect(await names({ $filter: "userType eq 'Guest'" })).toEqual(['gina', 'hank']);
      expect(await names({ $filter: "userType eq 'Member'" })).toEqual(members);
      expect(await names({ $filter: `id eq '${id.bob}'` })).toEqual(['bob']);
    });

    it('ne, not and endsWith in advanced query mode', async () => {
      expect(await advanced({ $filter: "userType ne 'Guest'" })).toEqual(members);
      expect(await advanced({ $filter: "not(startsWith(displayName,'a'))" })).toEqual(['bob', 'carol', 'gina', 'hank', 'walter']);
      expect(await advanced({ $filter: "not(startsWith(displayName,'a')) and not(userType eq 'Guest')" })).toEqual(['bob', 'carol', 'walter']);
      expect(await advanced({ $filter: 'not(givenName eq null)' })).toEqual(['alice']);
      // alice's otherMails are at fabrikam too, but endsWith looks at mail only.
      expect(await advanced({ $filter: "endsWith(mail,'@fabrikam.test')" })).toEqual(['gina']);
      expect(await advanced({ $filter: "endsWith(mail,'@FABRIKAM.TEST')" })).toEqual(['gina']);
    });

    it('in, startsWith (case-insensitive), and, or, parentheses', async () => {
      expect(await names({ $filter: "mail in ('alicewalker@contoso.test', 'GINA@fabrikam.test')" })).toEqual(['alice', 'gina']);
      expect(await names({ $filter: "startsWith(displayName,'WAL')" })).toEqual(['walter']);
      expect(await names({ $filter: "userType eq 'Member' and startsWith(displayName,'b')" })).toEqual(['bob']);
      expect(await names({ $filter: "startsWith(displayName,'carol') or userType eq 'Guest'" })).toEqual(['carol', 'gina', 'hank']);
      expect(await names({ $filter: "userType eq 'Member' and (startsWith(displayName,'b') or startsWith(displayName,'c'))" })).toEqual(['bob', 'carol']);
    });

    it('ge and le on createdDateTime', async () => {
      const at = (m: number) => new Date(t0 + m * minute).toISOString().replace('.000Z', 'Z');
      expect(await names({ $filter: `createdDateTime ge ${at(2)} and createdDateTime le ${at(3)}` })).toEqual(['bob', 'walter']);
      expect(await names({ $filter: `createdDateTime ge ${at(5)} and createdDateTime le ${at(6)}` })).toEqual(['gina', 'hank']);
      expect(await names({ $filter: `createdDateTime le ${at(0)}` })).toEqual(['admin']);
    });

    it('any() over otherMails and identities', async () => {
      expect(await names({ $filter: "otherMails/any(x: x eq 'alice.private@fabrikam.test')" })).toEqual(['alice']);
      expect(await names({ $filter: "otherMails/any(x: x eq 'ALICE.PRIVATE@FABRIKAM.TEST')" })).toEqual(['alice']);
      expect(await names({ $filter: "otherMails/any(x: x eq 'nobody@fabrikam.test')" })).toEqual([]);
      expect(await names({ $filter: "identities/any(i: i/issuerAssignedId eq 'wally@northwind.test')" })).toEqual(['hank']);
      expect(await names({ $filter: "identities/any(i: i/issuerAssignedId eq 'gina_fabrikam.test#EXT#@contoso.test')" })).toEqual(['gina']);
      expect(await names({ $filter: "identities/any(i: i/issuerAssignedId eq 'wally@northwind.test' and i/issuer eq 'mail')" })).toEqual(['hank']);
      expect(await names({ $filter: "identities/any(i: i/issuerAssignedId eq 'wally@northwind.test' and i/issuer eq 'contoso.test')" })).toEqual([]);
    });

    it('eq null', async () => {
      expect(await names({ $filter: 'givenName eq null' })).toEqual(['admin', 'bob', 'carol', 'gina', 'hank', 'walter']);
      expect(await names({ $filter: "givenName eq null and userType eq 'Guest'" })).toEqual(['gina', 'hank']);
      expect(await names({ $filter: 'externalUserState eq null' })).toHaveLength(7);
    });

    it('refuses unknown properties and bad syntax with 400', async () => {
      expectGraphError(await call(t, admin, { method: 'GET', url: usersUrl({ $filter: "shoeSize eq '42'" }) }), 400, 'Request_BadRequest', /shoeSize/);
      expectGraphError(await call(t, admin, { method: 'GET', url: usersUrl({ $filter: 'displayName eq' }) }), 400, 'Request_BadRequest');
      expectGraphError(await call(t, admin, { method: 'GET', url: usersUrl({ $filter: "userType eq 'Alien'" }) }), 400, 'Request_BadRequest', /Alien/);
      expectGraphError(await call(t, admin, { method: 'GET', url: usersUrl({ $filter: "displayName eq 'x'))" }) }), 400, 'Request_BadRequest');
    });
  });

  describe('advanced query gating', () => {
    const unsupported = async (params: Record<string, string>, headers: Record<string, string> = {}) =>
      expectGraphError(await call(t, admin, { method: 'GET', url: usersUrl(params), headers }), 400, 'Request_UnsupportedQuery', 'Unsupported Query.');

    it('ne, not, endsWith and $filter with $orderby need the header and $count=true', async () => {
      for (const $filter of [
        "userType ne 'Guest'",
        "not(userType eq 'Guest')",
        "endsWith(mail,'@fabrikam.test')",
        "userType eq 'Member' and userType ne 'Guest'",
      ]) {
        await unsupported({ $filter });
        await unsupported({ $filter }, EVENTUAL);
        await unsupported({ $filter, $count: 'true' });
      }
      await unsupported({ $filter: "userType eq 'Member'", $orderby: 'displayName' });
      await unsupported({ $filter: "userType eq 'Member'", $orderby: 'displayName', $count: 'true' });
      await unsupported({ $filter: "userType eq 'Member'", $orderby: 'displayName' }, EVENTUAL);
    });

    it('$filter with $orderby works in advanced mode; $orderby alone needs nothing', async () => {
      const res = await call(t, admin, {
        method: 'GET',
        url: usersUrl({
          $filter: "userType eq 'Member' and startsWith(displayName,'a') or startsWith(displayName,'w')",
          $orderby: 'displayName desc',
          $count: 'true',
        }),
        headers: EVENTUAL,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()['@odata.count']).toBe(3);
      expect(res.json().value.map((u: User) => u.displayName)).toEqual(['Walter Wagenaar', 'Alice Walker', 'Administrator']);

      const plain = await call(t, admin, { method: 'GET', url: usersUrl({ $orderby: 'displayName desc', $top: 3 }) });
      expect(plain.statusCode).toBe(200);
      expect(
        plain
          .json()
          .value.map((u: User) => u.displayName)
          .slice(0, 2),
      ).toEqual(['Walter Wagenaar', 'Hank Hill']);
    });

    it('$search needs the header, with Graph message', async () => {
      expectGraphError(
        await call(t, admin, { method: 'GET', url: usersUrl({ $search: '"displayName:wa"' }) }),
        400,
        'Request_UnsupportedQuery',
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
      );
    });

    it('$skip is refused; $top is 1..999', async () => {
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/users?$skip=1' }), 400, 'Request_BadRequest', /\$skip/);
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/users?$top=1000' }), 400, 'Request_BadRequest');
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/users?$top=0' }), 400, 'Request_BadRequest');
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/users?$top=ten' }), 400, 'Request_BadRequest');
      const top999 = await call(t, admin, { method: 'GET', url: '/v1.0/users?$top=999' });
      expect(top999.statusCode).toBe(200);
      expect(top999.json()).not.toHaveProperty('@odata.nextLink');
    });
  });

  describe('$search', () => {
    it('"displayName:wa" matches words that start with wa; a user with two matching words appears once', async () => {
      expect(await names({ $search: '"displayName:wa"' }, EVENTUAL)).toEqual(['alice', 'bob', 'walter']);
      expect(await names({ $search: '"displayName:WAGEN"' }, EVENTUAL)).toEqual(['walter']);
      expect(await names({ $search: '"displayName:alker"' }, EVENTUAL)).toEqual([]);
      // A value with a space matches across words, from a word start.
      expect(await names({ $search: '"displayName:walter wag"' }, EVENTUAL)).toEqual(['walter']);
      expect(await names({ $search: '"displayName:bob  WA"' }, EVENTUAL)).toEqual(['bob']);
    });

    it('"displayName:wa" OR "mail:wa" combines, once per user, on every page size', async () => {
      const expected = ['alice', 'bob', 'hank', 'walter'];
      expect(await names({ $search: '"displayName:wa" OR "mail:wa"' }, EVENTUAL)).toEqual(expected);
      for (const $top of [1, 2, 3]) {
        const pages = await followPages(t, admin, usersUrl({ $search: '"displayName:wa" OR "mail:wa"', $top }), EVENTUAL);
        const ids = pages.flatMap((p) => p.value.map((u) => u.id as string));
        expect(ids).toHaveLength(expected.length);
        expect(ids.map(nameOf).sort()).toEqual(expected);
      }
      const counted = await call(t, admin, {
        method: 'GET',
        url: usersUrl({ $search: '"displayName:wa" OR "mail:wa"', $count: 'true', $top: 1 }),
        headers: EVENTUAL,
      });
      expect(counted.json()['@odata.count']).toBe(4);
    });

    it('combines with $filter and with $orderby', async () => {
      expect(await names({ $search: '"displayName:wa" OR "mail:wa"', $filter: "userType eq 'Guest'" }, EVENTUAL)).toEqual(['hank']);
      const ordered = await call(t, admin, { method: 'GET', url: usersUrl({ $search: '"displayName:wa"', $orderby: 'displayName desc' }), headers: EVENTUAL });
      expect(ordered.json().value.map((u: User) => u.displayName)).toEqual(['Walter Wagenaar', 'Bob Wassink', 'Alice Walker']);
    });

    it('refuses malformed search and unsupported properties', async () => {
      for (const $search of ['wa', '"displayName:wa" AND "mail:wa"', '"jobTitle:eng"', '"displayName:"']) {
        const res = await call(t, admin, { method: 'GET', url: usersUrl({ $search }), headers: EVENTUAL });
        expect(res.statusCode, $search).toBe(400);
      }
    });
  });

  // Last, so the filter and search tests above see exactly the fixture users.
  describe('create, read, update, delete', () => {
    it('creates a user (201) with the default properties and no password, and reads it back by id and by userPrincipalName', async () => {
      const res = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/users',
        payload: {
          accountEnabled: true,
          displayName: 'Nina Nieuw',
          mailNickname: 'nina',
          userPrincipalName: 'Nina@contoso.test',
          jobTitle: 'Designer',
          department: 'Design',
          passwordProfile: { password: MEMBER_PASSWORD, forceChangePasswordNextSignIn: false },
        },
      });
      expect(res.statusCode).toBe(201);
      const created = res.json();
      expect(created['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#users/$entity');
      expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(created).toMatchObject({ displayName: 'Nina Nieuw', userPrincipalName: 'Nina@contoso.test', jobTitle: 'Designer', mail: null });
      expect(
        Object.keys(created)
          .filter((k) => !k.startsWith('@'))
          .sort(),
      ).toEqual(GRAPH_DEFAULT_USER_PROPERTIES);
      expect(res.body).not.toContain(MEMBER_PASSWORD);

      const byId = await call(t, admin, { method: 'GET', url: `/v1.0/users/${created.id}` });
      expect(byId.statusCode).toBe(200);
      expect(byId.json()).toEqual(created);
      // A UPN is looked up case-insensitively; so is an id.
      const byUpn = await call(t, admin, { method: 'GET', url: '/v1.0/users/nina%40CONTOSO.test' });
      expect(byUpn.statusCode).toBe(200);
      expect(byUpn.json().id).toBe(created.id);
      const upperId = await call(t, admin, { method: 'GET', url: `/v1.0/users/${created.id.toUpperCase()}` });
      expect(upperId.json().id).toBe(created.id);

      const all = await call(t, admin, {
        method: 'GET',
        url: `/v1.0/users/${created.id}?$select=userType,accountEnabled,createdDateTime,creationType,externalUserState,identities,department`,
      });
      expect(all.json()).toMatchObject({
        userType: 'Member',
        accountEnabled: true,
        createdDateTime: t.clock.now().toISOString(),
        creationType: null,
        externalUserState: null,
        identities: [{ signInType: 'userPrincipalName', issuer: 'contoso.test', issuerAssignedId: 'Nina@contoso.test' }],
        department: 'Design',
      });
      expect(all.json()['@odata.context']).toBe(
        'http://foyer.test/v1.0/$metadata#users(userType,accountEnabled,createdDateTime,creationType,externalUserState,identities,department)/$entity',
      );
    });

    it('finds a guest by userPrincipalName with # sent as %23', async () => {
      const res = await call(t, admin, { method: 'GET', url: '/v1.0/users/gina_fabrikam.test%23EXT%23%40contoso.test?$select=userType,mail' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: id.gina, userType: 'Guest', mail: 'gina@fabrikam.test' });
    });

    it('updates a user (204): changed properties read back, null clears, and the search index follows the new name', async () => {
      const eve = await createMember(t, admin, 'Eve Original', { jobTitle: 'Intern' });
      const res = await call(t, admin, {
        method: 'PATCH',
        url: `/v1.0/users/${eve}`,
        payload: { displayName: 'Eve Zwaluw', jobTitle: null, department: 'Sales', otherMails: ['eve@elsewhere.test'] },
      });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      const after = (await call(t, admin, { method: 'GET', url: `/v1.0/users/${eve}?$select=displayName,jobTitle,department,otherMails` })).json();
      expect(after).toMatchObject({ displayName: 'Eve Zwaluw', jobTitle: null, department: 'Sales', otherMails: ['eve@elsewhere.test'] });

      const search = async (term: string) =>
        (await followPages(t, admin, usersUrl({ $search: `"displayName:${term}"` }), EVENTUAL)).flatMap((p) => p.value.map((u) => u.id));
      expect(await search('zwal')).toEqual([eve]);
      expect(await search('origi')).toEqual([]);
      expect(await names({ $filter: "otherMails/any(x: x eq 'eve@elsewhere.test')" })).toEqual([eve]);

      // A new UPN is where the user is found from now on.
      expect((await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${eve}`, payload: { userPrincipalName: 'eve.z@contoso.test' } })).statusCode).toBe(204);
      expect((await call(t, admin, { method: 'GET', url: '/v1.0/users/eve.z%40contoso.test' })).json().id).toBe(eve);
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/users/eveoriginal%40contoso.test' }), 404, 'Request_ResourceNotFound');
    });

    it('disabling an account ends its sessions', async () => {
      const frank = await createMember(t, admin, 'Frank Disabled');
      const session = await t.signIn('frankdisabled@contoso.test', MEMBER_PASSWORD);
      expect((await call(t, { session }, { method: 'GET', url: '/v1.0/me' })).statusCode).toBe(200);
      expect((await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${frank}`, payload: { accountEnabled: false } })).statusCode).toBe(204);
      expectGraphError(await call(t, { session }, { method: 'GET', url: '/v1.0/me' }), 401, 'Authentication_MissingOrMalformed');
    });

    it('deletes a user (204): gone from reads and lists, and a second delete is 404', async () => {
      const dora = await createMember(t, admin, 'Dora Deleted');
      const del = await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${dora}` });
      expect(del.statusCode).toBe(204);
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/users/${dora}` }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/users/doradeleted%40contoso.test' }), 404, 'Request_ResourceNotFound');
      expect(await names({ $filter: `id eq '${dora}'` })).toEqual([]);
      expectGraphError(await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${dora}` }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, admin, { method: 'PATCH', url: `/v1.0/users/${dora}`, payload: { jobTitle: 'x' } }), 404, 'Request_ResourceNotFound');
    });

    it('refuses writes without User.ReadWrite.All and reads without a user permission', async () => {
      const reader = { token: await t.clientToken(['User.Read.All']) };
      expect((await call(t, reader, { method: 'GET', url: `/v1.0/users/${id.bob}` })).statusCode).toBe(200);
      expectGraphError(
        await call(t, reader, {
          method: 'POST',
          url: '/v1.0/users',
          payload: {
            accountEnabled: true,
            displayName: 'No',
            mailNickname: 'no',
            userPrincipalName: 'no@contoso.test',
            passwordProfile: { password: MEMBER_PASSWORD },
          },
        }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(
        await call(t, reader, { method: 'PATCH', url: `/v1.0/users/${id.bob}`, payload: { jobTitle: 'x' } }),
        403,
        'Authorization_RequestDenied',
      );
      expectGraphError(await call(t, reader, { method: 'DELETE', url: `/v1.0/users/${id.bob}` }), 403, 'Authorization_RequestDenied');
      const groupsOnly = { token: await t.clientToken(['Group.Read.All']) };
      expectGraphError(await call(t, groupsOnly, { method: 'GET', url: '/v1.0/users' }), 403, 'Authorization_RequestDenied');
      expectGraphError(await call(t, null, { method: 'GET', url: '/v1.0/users' }), 401, 'Authentication_MissingOrMalformed');
    });
  });
});

describe(`users paging (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let everyone: User[];
  const SEEDED = 250;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { token: await t.clientToken(['User.Read.All']) };
    await seedDirectory(t.database.db, { tenantId: t.tenant.id, domain: 'contoso.test', users: SEEDED, guestRatio: 0.3, clock: t.clock });
    const res = await call(t, admin, { method: 'GET', url: '/v1.0/users?$top=999&$select=displayName,userType,createdDateTime' });
    everyone = res.json().value;
  });
  afterAll(() => t.close());

  const ids = (pages: { value: Record<string, unknown>[] }[]) => pages.flatMap((p) => p.value.map((u) => u.id as string));
  const byNameThenId = (a: User, b: User) => {
    const [x, y] = [a.displayName.toLowerCase(), b.displayName.toLowerCase()];
    return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };

  it('pages 100 at a time by default, and $top=999 returns everything at once', async () => {
    expect(everyone).toHaveLength(SEEDED + 1);
    const pages = await followPages(t, admin, '/v1.0/users');
    expect(pages.map((p) => p.value.length)).toEqual([100, 100, 51]);
    expect(pages[0]!['@odata.nextLink']).toMatch(/^http:\/\/foyer\.test\/v1\.0\/users\?\$skiptoken=/);
    expect(new Set(ids(pages))).toEqual(new Set(everyone.map((u) => u.id)));
  });

  it('following @odata.nextLink visits every user once, keeping the other query options', async () => {
    const pages = await followPages(t, admin, '/v1.0/users?$top=37&$select=displayName');
    expect(pages).toHaveLength(Math.ceil((SEEDED + 1) / 37));
    for (const p of pages.slice(0, -1)) expect(p['@odata.nextLink']).toContain('$top=37');
    for (const p of pages) expect(p['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#users(displayName)');
    expect(pages.at(-1)).not.toHaveProperty('@odata.nextLink');
    const seen = ids(pages);
    expect(seen).toHaveLength(SEEDED + 1);
    expect(new Set(seen).size).toBe(SEEDED + 1);
  });

  it('$orderby=displayName asc and desc page in a stable order, with no duplicates or gaps among equal names', async () => {
    const expected = [...everyone].sort(byNameThenId).map((u) => u.id);
    // Seeded names repeat, so the id tiebreak is what keeps pages apart.
    expect(new Set(everyone.map((u) => u.displayName)).size).toBeLessThan(everyone.length);
    expect(ids(await followPages(t, admin, '/v1.0/users?$orderby=displayName&$top=23'))).toEqual(expected);
    expect(ids(await followPages(t, admin, '/v1.0/users?$orderby=displayName%20asc&$top=23'))).toEqual(expected);
    expect(ids(await followPages(t, admin, '/v1.0/users?$orderby=displayName%20desc&$top=23'))).toEqual([...expected].reverse());
  });

  it('a filtered, ordered, counted list pages with the count on every page', async () => {
    const guests = everyone.filter((u) => u.userType === 'Guest');
    expect(guests.length).toBeGreaterThan(30);
    const pages = await followPages(t, admin, usersUrl({ $filter: "userType eq 'Guest'", $orderby: 'displayName desc', $count: 'true', $top: 9 }), EVENTUAL);
    for (const p of pages) expect(p['@odata.count']).toBe(guests.length);
    expect(ids(pages)).toEqual(
      [...guests]
        .sort(byNameThenId)
        .map((u) => u.id)
        .reverse(),
    );
  });

  it('$orderby=createdDateTime pages in time order', async () => {
    const pages = await followPages(t, admin, '/v1.0/users?$orderby=createdDateTime&$top=40&$select=createdDateTime');
    const times = pages.flatMap((p) => p.value.map((u) => u.createdDateTime as string));
    expect(times).toHaveLength(SEEDED + 1);
    expect(times).toEqual([...times].sort());
  });

  it('$search pages through matches once each', async () => {
    const matching = everyone.filter((u) =>
      u.displayName
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .some((w) => w.startsWith('wa')),
    );
    expect(matching.length).toBeGreaterThan(10);
    const pages = await followPages(t, admin, usersUrl({ $search: '"displayName:wa"', $top: 4 }), EVENTUAL);
    const seen = ids(pages);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(matching.map((u) => u.id)));
  });

  it('$search over fields that index the same words (mail and userPrincipalName) pages without gaps at every page size', async () => {
    // Seeded members have mail equal to userPrincipalName: each match is two index rows with the same term.
    const $search = '"mail:wa" OR "userPrincipalName:wa" OR "displayName:wa"';
    const all = await call(t, admin, { method: 'GET', url: usersUrl({ $search, $top: 999, $count: 'true' }), headers: EVENTUAL });
    const expected = (all.json().value as User[]).map((u) => u.id).sort();
    expect(all.json()['@odata.count']).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(10);
    for (const $top of [1, 2, 3, 4, 5, 7]) {
      const seen = ids(await followPages(t, admin, usersUrl({ $search, $top }), EVENTUAL));
      expect(seen.length, `$top=${$top}`).toBe(expected.length);
      expect([...seen].sort(), `$top=${$top}`).toEqual(expected);
    }
  });

  it('refuses a tampered $skiptoken, and one from another query', async () => {
    const first = (await call(t, admin, { method: 'GET', url: '/v1.0/users?$top=5' })).json();
    const token = new URL(first['@odata.nextLink']).searchParams.get('$skiptoken')!;
    const [body, mac] = token.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bad = async (url: string, headers: Record<string, string> = {}) =>
      expectGraphError(await call(t, admin, { method: 'GET', url, headers }), 400, 'Request_BadRequest', /skiptoken/i);

    await bad(`/v1.0/users?$top=5&$skiptoken=${encodeURIComponent(`${flip(body, 5)}.${mac}`)}`);
    await bad(`/v1.0/users?$top=5&$skiptoken=${encodeURIComponent(`${body}.${flip(mac, 0)}`)}`);
    await bad(`/v1.0/users?$top=5&$skiptoken=${encodeURIComponent(body)}`);
    await bad('/v1.0/users?$top=5&$skiptoken=garbage');

    // A valid token belongs to the query that made it.
    await bad(usersUrl({ $filter: "userType eq 'Guest'", $top: 5, $skiptoken: token }));
    await bad(usersUrl({ $orderby: 'displayName', $top: 5, $skiptoken: token }));
    const asc = (await call(t, admin, { method: 'GET', url: '/v1.0/users?$orderby=displayName&$top=5' })).json();
    const ascToken = new URL(asc['@odata.nextLink']).searchParams.get('$skiptoken')!;
    await bad(usersUrl({ $orderby: 'displayName desc', $top: 5, $skiptoken: ascToken }));
    await bad(usersUrl({ $search: '"displayName:wa"', $top: 5, $skiptoken: ascToken }), EVENTUAL);
    // The untouched token still works.
    expect((await call(t, admin, { method: 'GET', url: `/v1.0/users?$top=5&$skiptoken=${token}` })).statusCode).toBe(200);
  });
});
