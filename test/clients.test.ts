import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { migrateToLatest } from '../src/db/database.js';
import { applicationPermissions } from '../src/auth/permissions.js';
import type { ApiClient } from '../src/auth/clients.service.js';
import { hashToken } from '../src/auth/secrets.js';
import { call, createTestApp, expectGraphError, followPages, openTestDatabase, testEngine, type Caller, type TestApp } from './helpers/test-app.js';

type Client = ApiClient & { clientSecret?: string };
interface Audit {
  activityDisplayName: string;
  category: string;
  operationType: string;
  correlationId: string;
  initiatedBy: { user: { id: string } | null };
  targetResources: { id: string; type: string; modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[] }[];
}

describe(`API clients: list, disable, delete and rotate the secret (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
  });
  afterAll(() => t.close());

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown>, caller: Caller = admin) =>
    call(t, caller, { method, url, ...(payload ? { payload } : {}) });
  async function create(displayName: string, permissions = ['User.Read.All']): Promise<Client & { clientSecret: string }> {
    const res = await api('POST', '/v1.0/foyer/clients', { displayName, permissions });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const tokenRequest = (clientId: string, clientSecret: string) =>
    t.app.inject({
      method: 'POST',
      url: '/oauth2/v2.0/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: '.default' }).toString(),
    });
  async function tokenOf(clientId: string, clientSecret: string): Promise<string> {
    const res = await tokenRequest(clientId, clientSecret);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().access_token;
  }
  const usersWith = (token: string) => call(t, { token }, { method: 'GET', url: '/v1.0/users?$top=1' });
  const auditsOf = async (id: string) =>
    (await api('GET', `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent(`targetResources/any(t: t/id eq '${id}')`)}`)).json().value as Audit[];

  it('a Global Administrator creates a client: its secret is answered once and stored hashed, and the creation is audited', async () => {
    const client = await create('Reporting', ['User.Read.All', 'AuditLog.Read.All', 'User.Read.All']);
    expect(client).toMatchObject({
      displayName: 'Reporting',
      permissions: ['User.Read.All', 'AuditLog.Read.All'],
      accountEnabled: true,
      createdDateTime: t.clock.now().toISOString(),
      lastSecretChangeDateTime: t.clock.now().toISOString(),
    });
    expect(client.clientSecret.length).toBeGreaterThanOrEqual(40);
    const stored = await t.database.db.selectFrom('api_clients').select('secret_hash').where('id', '=', client.id).executeTakeFirstOrThrow();
    expect(stored.secret_hash).toBe(hashToken(client.clientSecret));

    const got = await api('GET', `/v1.0/foyer/clients/${client.id.toUpperCase()}`);
    expect(got.json()).toEqual({
      '@odata.context': 'http://foyer.test/v1.0/$metadata#foyer/clients/$entity',
      id: client.id,
      displayName: 'Reporting',
      permissions: ['User.Read.All', 'AuditLog.Read.All'],
      accountEnabled: true,
      createdDateTime: client.createdDateTime,
      lastSecretChangeDateTime: client.lastSecretChangeDateTime,
    });
    const listed = await api('GET', '/v1.0/foyer/clients');
    expect(listed.body).not.toContain(client.clientSecret);
    expect(listed.json().value.map((c: Client) => c.id)).toContain(client.id);
    expect((await usersWith(await tokenOf(client.id, client.clientSecret))).statusCode).toBe(200);

    const [audit] = await auditsOf(client.id);
    expect(audit).toMatchObject({ activityDisplayName: 'Add service principal', category: 'ApplicationManagement', operationType: 'Add' });
    expect(audit!.initiatedBy.user?.id).toBe(t.admin.id);
    expect(JSON.stringify(audit)).not.toContain(client.clientSecret);
  });

  it('lists with the usual query options: filter, order, select, paging and count', async () => {
    const names = ['Zeta sync', 'alpha export', 'Beta import'];
    const made = [];
    for (const name of names) made.push(await create(name));
    await api('PATCH', `/v1.0/foyer/clients/${made[2]!.id}`, { accountEnabled: false });
    const q = (query: string) => api('GET', `/v1.0/foyer/clients?${query}`);

    const byName = (await q('$orderby=displayName&$select=displayName')).json();
    expect(byName['@odata.context']).toBe('http://foyer.test/v1.0/$metadata#foyer/clients(displayName)');
    const ordered = (byName.value as Client[]).map((c) => c.displayName);
    expect(ordered.filter((n) => names.includes(n))).toEqual(['alpha export', 'Beta import', 'Zeta sync']);
    expect(Object.keys(byName.value[0])).toEqual(['id', 'displayName']);
    expect((await q(`$filter=${encodeURIComponent("startsWith(displayName,'ZETA')")}`)).json().value.map((c: Client) => c.id)).toEqual([made[0]!.id]);
    expect((await q('$filter=accountEnabled eq false')).json().value.map((c: Client) => c.id)).toEqual([made[2]!.id]);
    const pages = await followPages(t, admin, '/v1.0/foyer/clients?$top=1&$orderby=createdDateTime desc');
    expect(pages.length).toBeGreaterThanOrEqual(4);
    const all = pages.flatMap((p) => p.value.map((c) => c.id));
    expect(new Set(all).size).toBe(all.length);
    const counted = await call(t, admin, { method: 'GET', url: '/v1.0/foyer/clients?$count=true', headers: { consistencylevel: 'eventual' } });
    expect(counted.json()['@odata.count']).toBe(all.length);
    for (const bad of [
      '$search="displayName:zeta"',
      '$orderby=permissions',
      '$select=clientSecret',
      '$filter=lastSecretChangeDateTime gt 2026-01-01T00:00:00Z',
    ])
      expect((await call(t, admin, { method: 'GET', url: `/v1.0/foyer/clients?${bad}`, headers: { consistencylevel: 'eventual' } })).statusCode, bad).toBe(400);
  });

  it('disabling a client ends its tokens at once and gets it no new one; enabling it again lets it back in', async () => {
    const client = await create('Disabled later');
    const token = await tokenOf(client.id, client.clientSecret);
    expect((await usersWith(token)).statusCode).toBe(200);

    expect((await api('PATCH', `/v1.0/foyer/clients/${client.id}`, { accountEnabled: false })).statusCode).toBe(204);
    expectGraphError(await usersWith(token), 401, 'Authentication_MissingOrMalformed');
    expect((await tokenRequest(client.id, client.clientSecret)).json()).toMatchObject({ error: 'invalid_client' });
    expect((await api('GET', `/v1.0/foyer/clients/${client.id}`)).json().accountEnabled).toBe(false);

    expect((await api('PATCH', `/v1.0/foyer/clients/${client.id}`, { accountEnabled: true })).statusCode).toBe(204);
    expect((await usersWith(await tokenOf(client.id, client.clientSecret))).statusCode).toBe(200);
    const changes = (await auditsOf(client.id)).filter((a) => a.activityDisplayName === 'Update service principal');
    expect(changes.map((a) => a.targetResources[0]!.modifiedProperties)).toEqual(
      expect.arrayContaining([
        [{ displayName: 'accountEnabled', oldValue: 'true', newValue: 'false' }],
        [{ displayName: 'accountEnabled', oldValue: 'false', newValue: 'true' }],
      ]),
    );
  });

  it('renaming and changing permissions apply to tokens already issued', async () => {
    const client = await create('Shrinking', ['User.Read.All', 'Group.Read.All']);
    const token = await tokenOf(client.id, client.clientSecret);
    const patch = await api('PATCH', `/v1.0/foyer/clients/${client.id}`, { displayName: 'Groups only', permissions: ['Group.Read.All'] });
    expect(patch.statusCode, patch.body).toBe(204);
    expectGraphError(await usersWith(token), 403, 'Authorization_RequestDenied');
    expect((await call(t, { token }, { method: 'GET', url: '/v1.0/groups' })).statusCode).toBe(200);
    expect((await api('GET', `/v1.0/foyer/clients/${client.id}`)).json()).toMatchObject({ displayName: 'Groups only', permissions: ['Group.Read.All'] });
  });

  it('rotating the secret: the new one is answered once; the old one gets no token and its tokens stop at once', async () => {
    const client = await create('Rotated');
    const oldToken = await tokenOf(client.id, client.clientSecret);
    t.clock.advance(60_000);
    const res = await api('POST', `/v1.0/foyer/clients/${client.id}/rotateSecret`);
    expect(res.statusCode, res.body).toBe(200);
    const rotated = res.json() as Client & { clientSecret: string };
    expect(rotated).toMatchObject({ id: client.id, lastSecretChangeDateTime: t.clock.now().toISOString(), createdDateTime: client.createdDateTime });
    expect(rotated.clientSecret).not.toBe(client.clientSecret);

    expect((await tokenRequest(client.id, client.clientSecret)).json()).toMatchObject({ error: 'invalid_client' });
    expectGraphError(await usersWith(oldToken), 401, 'Authentication_MissingOrMalformed', /secret was replaced/);
    const newToken = await tokenOf(client.id, rotated.clientSecret);
    expect((await usersWith(newToken)).statusCode).toBe(200);
    expect((await api('GET', `/v1.0/foyer/clients/${client.id}`)).body).not.toContain(rotated.clientSecret);

    // A second rotation ends the tokens of the second secret too.
    const again = (await api('POST', `/v1.0/foyer/clients/${client.id}/rotateSecret`)).json() as { clientSecret: string };
    expectGraphError(await usersWith(newToken), 401, 'Authentication_MissingOrMalformed');
    expect((await usersWith(await tokenOf(client.id, again.clientSecret))).statusCode).toBe(200);

    const rotations = (await auditsOf(client.id)).filter((a) => a.activityDisplayName === 'Add service principal credentials');
    expect(rotations).toHaveLength(2);
    expect(rotations.every((a) => a.category === 'ApplicationManagement' && a.operationType === 'Update')).toBe(true);
    for (const secret of [rotated.clientSecret, again.clientSecret]) expect(JSON.stringify(rotations)).not.toContain(secret);
  });

  it('deleting a client ends its tokens at once, refuses its secret, and is audited', async () => {
    const client = await create('Removed');
    const token = await tokenOf(client.id, client.clientSecret);
    expect((await api('DELETE', `/v1.0/foyer/clients/${client.id}`)).statusCode).toBe(204);
    expectGraphError(await usersWith(token), 401, 'Authentication_MissingOrMalformed');
    expect((await tokenRequest(client.id, client.clientSecret)).json()).toMatchObject({ error: 'invalid_client' });
    expectGraphError(await api('GET', `/v1.0/foyer/clients/${client.id}`), 404, 'Request_ResourceNotFound');
    expectGraphError(await api('DELETE', `/v1.0/foyer/clients/${client.id}`), 404, 'Request_ResourceNotFound');
    expect((await auditsOf(client.id)).map((a) => a.activityDisplayName)).toEqual(['Delete service principal', 'Add service principal']);
  });

  it('refuses bad input with a 400 that names the problem, and unknown clients with a 404', async () => {
    expectGraphError(
      await api('POST', '/v1.0/foyer/clients', { displayName: 'x', permissions: ['User.Read.All', 'Mail.Send'] }),
      400,
      'Request_BadRequest',
      /Unknown permission\(s\): Mail\.Send/,
    );
    expectGraphError(await api('POST', '/v1.0/foyer/clients', { displayName: '  ', permissions: [] }), 400, 'Request_BadRequest', /needs a name/);
    expectGraphError(await api('POST', '/v1.0/foyer/clients', { displayName: 'x' }), 400, 'Request_BadRequest', "Property 'permissions' is required.");
    expectGraphError(
      await api('POST', '/v1.0/foyer/clients', { displayName: 'x', permissions: [], clientSecret: 'mine' }),
      400,
      'Request_BadRequest',
      "Property 'clientSecret' is read-only and cannot be set.",
    );
    const client = await create('Patched badly');
    for (const [payload, message] of [
      [{}, /no properties to change/],
      [{ accountEnabled: 'no' }, /accountEnabled/],
      [{ permissions: ['Everything'] }, /Unknown permission/],
      [{ id: 'x' }, /read-only/],
    ] as const)
      expectGraphError(await api('PATCH', `/v1.0/foyer/clients/${client.id}`, payload), 400, 'Request_BadRequest', message);
    for (const id of ['not-a-guid', '00000000-0000-4000-8000-000000000000'])
      for (const [method, url] of [
        ['GET', `/v1.0/foyer/clients/${id}`],
        ['PATCH', `/v1.0/foyer/clients/${id}`],
        ['DELETE', `/v1.0/foyer/clients/${id}`],
        ['POST', `/v1.0/foyer/clients/${id}/rotateSecret`],
      ] as const)
        expectGraphError(await api(method, url, method === 'PATCH' ? { accountEnabled: false } : undefined), 404, 'Request_ResourceNotFound', new RegExp(id));
  });

  it('no application may manage clients, not even one holding every permission, and none can widen itself', async () => {
    const all = await create('Holds everything', [...applicationPermissions]);
    const app: Caller = { token: await tokenOf(all.id, all.clientSecret) };
    for (const [method, url, payload] of [
      ['GET', '/v1.0/foyer/clients', undefined],
      ['GET', `/v1.0/foyer/clients/${all.id}`, undefined],
      ['POST', '/v1.0/foyer/clients', { displayName: 'Minted', permissions: ['Directory.ReadWrite.All'] }],
      ['PATCH', `/v1.0/foyer/clients/${all.id}`, { displayName: 'Widened' }],
      ['POST', `/v1.0/foyer/clients/${all.id}/rotateSecret`, undefined],
      ['DELETE', `/v1.0/foyer/clients/${all.id}`, undefined],
    ] as const)
      expectGraphError(await api(method, url, payload, app), 403, 'Authorization_RequestDenied');
    expect((await api('GET', `/v1.0/foyer/clients/${all.id}`)).json().displayName).toBe('Holds everything');
    expect((await api('GET', '/v1.0/foyer/clients')).json().value.map((c: Client) => c.displayName)).not.toContain('Minted');
  });
});

describe(`migration 0012 over existing clients (${testEngine})`, () => {
  it('fills the lower-cased name and the secret’s date of clients made before it, and keeps their secret', async () => {
    const database = await openTestDatabase();
    try {
      await migrateToLatest(database.db, '2026-11-24-0010-bulk-line-cursor');
      const db = database.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      await db
        .insertInto('tenants')
        .values({
          id: 't1',
          display_name: 'Contoso',
          initial_domain: 'contoso.test',
          created_at: '2026-01-01T00:00:00.000Z',
          authorization_policy: '{}',
          collaboration_policy: '{"mode":"none","domains":[]}',
        })
        .execute();
      await db
        .insertInto('api_clients')
        .values({
          tenant_id: 't1',
          id: 'c1',
          display_name: 'Ünïcode Sync',
          secret_hash: hashToken('old-secret'),
          permissions: '[]',
          created_at: '2026-02-03T04:05:06.000Z',
          disabled_at: null,
        })
        .execute();
      await migrateToLatest(database.db);
      const row = await database.db.selectFrom('api_clients').selectAll().where('id', '=', 'c1').executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        display_name_lower: 'ünïcode sync',
        secret_version: 1,
        secret_changed_at: '2026-02-03T04:05:06.000Z',
        secret_hash: hashToken('old-secret'),
      });
    } finally {
      await database.destroy();
    }
  });
});
