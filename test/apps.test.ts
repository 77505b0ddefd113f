import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createGuest, createMember, createTestApp, expectGraphError, testEngine, type Caller, type TestApp } from './helpers/test-app.js';
import { browser, codeReader, redeem } from './helpers/guest-pages.js';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';
import { hashToken } from '../src/auth/secrets.js';

const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';
const ROLE = '5f0b1d77-3e3a-4b8e-8f3e-7d2d6a1c9b10';

describe(`applications, service principals and assignments (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let apps: Caller;
  let n = 0;

  const json = (res: { body: string }) => JSON.parse(res.body) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const ok = async (res: Promise<{ statusCode: number; body: string }>, status: number) => {
    const r = await res;
    if (r.statusCode !== status) throw new Error(`expected ${status}, got ${r.statusCode} ${r.body}`);
    return r.body ? json(r) : {};
  };
  const newApp = (extra: Record<string, unknown> = {}) =>
    ok(
      call(t, apps, {
        method: 'POST',
        url: '/v1.0/applications',
        payload: { displayName: `App ${++n}`, web: { redirectUris: [`https://app${n}.contoso.test/signin-oidc`] }, ...extra },
      }),
      201,
    );
  const newSp = async (extra: Record<string, unknown> = {}) => {
    const app = await newApp();
    const sp = await ok(call(t, apps, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: app.appId, ...extra } }), 201);
    return { app, sp };
  };
  const assign = (spId: string, principalId: string, appRoleId = DEFAULT_ACCESS) =>
    call(t, apps, { method: 'POST', url: `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo`, payload: { principalId, resourceId: spId, appRoleId } });
  const audits = async (activity: string) => {
    const token = await t.clientToken(['AuditLog.Read.All']);
    const res = await ok(call(t, { token }, { method: 'GET', url: `/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq '${activity}'` }), 200);
    return res.value as { targetResources: { id: string }[] }[];
  };

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    apps = { token: await t.clientToken(['Application.ReadWrite.All', 'User.ReadWrite.All', 'Group.ReadWrite.All']) };
  });
  afterAll(() => t?.close());

  describe('applications', () => {
    it('registers an application in Graph’s shape and audits it', async () => {
      const app = await newApp({
        description: 'Partner portal',
        web: { redirectUris: ['https://portal.contoso.test/cb', 'http://localhost:5000/cb'], homePageUrl: 'https://portal.contoso.test/' },
        publicClient: { redirectUris: ['msalportal://auth'] },
        info: { logoUrl: 'https://portal.contoso.test/logo.png' },
        appRoles: [{ id: ROLE, value: 'Reader', displayName: 'Reader', allowedMemberTypes: ['User'] }],
      });
      expect(app).toMatchObject({
        '@odata.context': 'http://foyer.test/v1.0/$metadata#applications/$entity',
        displayName: `App ${n}`,
        description: 'Partner portal',
        signInAudience: 'AzureADMyOrg',
        web: { redirectUris: ['https://portal.contoso.test/cb', 'http://localhost:5000/cb'], homePageUrl: 'https://portal.contoso.test/', logoutUrl: null },
        publicClient: { redirectUris: ['msalportal://auth'] },
        info: { logoUrl: 'https://portal.contoso.test/logo.png' },
        appRoles: [
          { id: ROLE, value: 'Reader', displayName: 'Reader', allowedMemberTypes: ['User'], isEnabled: true, origin: 'Application', description: null },
        ],
        passwordCredentials: [],
      });
      expect(app.appId).toMatch(/^[0-9a-f-]{36}$/);
      expect(app.appId).not.toBe(app.id);
      expect((await audits('Add application')).some((a) => a.targetResources[0]!.id === app.id)).toBe(true);
      const got = await ok(call(t, apps, { method: 'GET', url: `/v1.0/applications/${app.id}?$select=displayName,appId` }), 200);
      expect(got).toEqual({
        '@odata.context': 'http://foyer.test/v1.0/$metadata#applications(displayName,appId)/$entity',
        id: app.id,
        displayName: app.displayName,
        appId: app.appId,
      });
    });

    it('lists with $filter on appId and displayName, and pages', async () => {
      const app = await newApp({ displayName: 'Zebra Tracker' });
      const byAppId = await ok(call(t, apps, { method: 'GET', url: `/v1.0/applications?$filter=appId eq '${app.appId}'` }), 200);
      expect(byAppId.value.map((a: { id: string }) => a.id)).toEqual([app.id]);
      const byName = await ok(call(t, apps, { method: 'GET', url: `/v1.0/applications?$filter=startsWith(displayName,'zebra')` }), 200);
      expect(byName.value.map((a: { id: string }) => a.id)).toEqual([app.id]);
      const page = await ok(call(t, apps, { method: 'GET', url: '/v1.0/applications?$top=1' }), 200);
      expect(page.value).toHaveLength(1);
      expect(page['@odata.nextLink']).toContain('$skiptoken=');
    });

    it('updates with PATCH (204) and audits the change', async () => {
      const app = await newApp();
      await ok(
        call(t, apps, {
          method: 'PATCH',
          url: `/v1.0/applications/${app.id}`,
          payload: { displayName: 'Renamed', web: { redirectUris: ['https://renamed.contoso.test/cb'] } },
        }),
        204,
      );
      const got = await ok(call(t, apps, { method: 'GET', url: `/v1.0/applications/${app.id}` }), 200);
      expect(got.displayName).toBe('Renamed');
      expect(got.web.redirectUris).toEqual(['https://renamed.contoso.test/cb']);
      expect((await audits('Update application')).some((a) => a.targetResources[0]!.id === app.id)).toBe(true);
    });

    it('an enabled app role must be disabled before it is removed', async () => {
      const app = await newApp({ appRoles: [{ id: ROLE, value: 'Reader', displayName: 'Reader', allowedMemberTypes: ['User'] }] });
      expectGraphError(
        await call(t, apps, { method: 'PATCH', url: `/v1.0/applications/${app.id}`, payload: { appRoles: [] } }),
        400,
        'Request_BadRequest',
        /disable/i,
      );
      await ok(
        call(t, apps, {
          method: 'PATCH',
          url: `/v1.0/applications/${app.id}`,
          payload: { appRoles: [{ id: ROLE, value: 'Reader', displayName: 'Reader', allowedMemberTypes: ['User'], isEnabled: false }] },
        }),
        204,
      );
      await ok(call(t, apps, { method: 'PATCH', url: `/v1.0/applications/${app.id}`, payload: { appRoles: [] } }), 204);
    });

    it('adds a secret answered once (stored hashed), lists it without the text, removes it', async () => {
      const app = await newApp();
      const secret = await ok(
        call(t, apps, { method: 'POST', url: `/v1.0/applications/${app.id}/addPassword`, payload: { passwordCredential: { displayName: 'ci' } } }),
        200,
      );
      expect(secret.secretText).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(secret).toMatchObject({ displayName: 'ci', hint: secret.secretText.slice(0, 3), keyId: expect.any(String) });
      expect(new Date(secret.endDateTime).getTime() - new Date(secret.startDateTime).getTime()).toBe(2 * 365 * 86_400_000);
      const stored = await t.database.db.selectFrom('application_secrets').selectAll().where('key_id', '=', secret.keyId).executeTakeFirstOrThrow();
      expect(stored.secret_hash).toBe(hashToken(secret.secretText));
      expect(JSON.stringify(stored)).not.toContain(secret.secretText);
      const got = await ok(call(t, apps, { method: 'GET', url: `/v1.0/applications/${app.id}` }), 200);
      expect(got.passwordCredentials).toEqual([
        {
          customKeyIdentifier: null,
          displayName: 'ci',
          endDateTime: secret.endDateTime,
          hint: secret.hint,
          keyId: secret.keyId,
          secretText: null,
          startDateTime: secret.startDateTime,
        },
      ]);
      await ok(call(t, apps, { method: 'POST', url: `/v1.0/applications/${app.id}/removePassword`, payload: { keyId: secret.keyId } }), 204);
      expect((await ok(call(t, apps, { method: 'GET', url: `/v1.0/applications/${app.id}` }), 200)).passwordCredentials).toEqual([]);
      expectGraphError(
        await call(t, apps, { method: 'POST', url: `/v1.0/applications/${app.id}/removePassword`, payload: { keyId: secret.keyId } }),
        400,
        'Request_BadRequest',
      );
    });

    it('deletes an application with its service principal and assignments', async () => {
      const { app, sp } = await newSp();
      const user = await createMember(t, admin, `Del Target ${n}`);
      await ok(assign(sp.id, user), 201);
      await ok(call(t, apps, { method: 'DELETE', url: `/v1.0/applications/${app.id}` }), 204);
      expectGraphError(await call(t, apps, { method: 'GET', url: `/v1.0/applications/${app.id}` }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, apps, { method: 'GET', url: `/v1.0/servicePrincipals/${sp.id}` }), 404, 'Request_ResourceNotFound');
      expect((await ok(call(t, apps, { method: 'GET', url: `/v1.0/users/${user}/appRoleAssignments` }), 200)).value).toEqual([]);
    });

    const badBodies: [string, Record<string, unknown>, RegExp][] = [
      ['no displayName', { web: {} }, /displayName/],
      ['an unknown property', { displayName: 'x', colour: 'red' }, /colour/],
      ['a read-only property', { displayName: 'x', appId: '0a0a0a0a-0000-4000-8000-000000000000' }, /read-only/],
      ['a relative redirect URI', { displayName: 'x', web: { redirectUris: ['/cb'] } }, /absolute/],
      ['an http redirect URI off localhost', { displayName: 'x', web: { redirectUris: ['http://portal.contoso.test/cb'] } }, /https/],
      ['a redirect URI with a fragment', { displayName: 'x', web: { redirectUris: ['https://a.test/cb#x'] } }, /fragment/],
      ['a javascript: public client URI', { displayName: 'x', publicClient: { redirectUris: ['javascript:alert(1)'] } }, /scheme/],
      ['a javascript: homepage', { displayName: 'x', web: { homePageUrl: 'javascript:alert(1)' } }, /homePageUrl/],
      ['a non-GUID app role id', { displayName: 'x', appRoles: [{ id: 'r1', value: 'R', displayName: 'R', allowedMemberTypes: ['User'] }] }, /GUID/],
      [
        'the Default Access role id',
        { displayName: 'x', appRoles: [{ id: DEFAULT_ACCESS, value: 'R', displayName: 'R', allowedMemberTypes: ['User'] }] },
        /reserved/,
      ],
      [
        'a duplicate app role value',
        {
          displayName: 'x',
          appRoles: [
            { id: ROLE, value: 'R', displayName: 'R', allowedMemberTypes: ['User'] },
            { id: '6f0b1d77-3e3a-4b8e-8f3e-7d2d6a1c9b10', value: 'r', displayName: 'R2', allowedMemberTypes: ['User'] },
          ],
        },
        /more than once/,
      ],
      [
        'an app role value with a space',
        { displayName: 'x', appRoles: [{ id: ROLE, value: 'Re ader', displayName: 'R', allowedMemberTypes: ['User'] }] },
        /spaces/,
      ],
      ['another signInAudience', { displayName: 'x', signInAudience: 'AzureADMultipleOrgs' }, /signInAudience/],
    ];
    for (const [what, payload, message] of badBodies)
      it(`refuses ${what} (400, nothing written)`, async () => {
        const before = (await t.database.db.selectFrom('applications').select('id').execute()).length;
        expectGraphError(await call(t, apps, { method: 'POST', url: '/v1.0/applications', payload }), 400, 'Request_BadRequest', message);
        expect((await t.database.db.selectFrom('applications').select('id').execute()).length).toBe(before);
      });

    it('answers 404 for unknown or malformed ids, 400 for bad secrets input', async () => {
      for (const id of ['5c4b1d77-0000-4000-8000-000000000000', 'not-a-guid'])
        for (const [method, url] of [
          ['GET', `/v1.0/applications/${id}`],
          ['PATCH', `/v1.0/applications/${id}`],
          ['DELETE', `/v1.0/applications/${id}`],
          ['POST', `/v1.0/applications/${id}/addPassword`],
        ] as const)
          expectGraphError(
            await call(t, apps, { method, url, payload: method === 'PATCH' ? { displayName: 'x' } : method === 'POST' ? {} : undefined }),
            404,
            'Request_ResourceNotFound',
          );
      const app = await newApp();
      expectGraphError(
        await call(t, apps, { method: 'POST', url: `/v1.0/applications/${app.id}/addPassword`, payload: { passwordCredential: { endDateTime: 'tomorrow' } } }),
        400,
        'Request_BadRequest',
      );
      expectGraphError(
        await call(t, apps, {
          method: 'POST',
          url: `/v1.0/applications/${app.id}/addPassword`,
          payload: { passwordCredential: { endDateTime: '2020-01-01T00:00:00Z' } },
        }),
        400,
        'Request_BadRequest',
      );
      expectGraphError(await call(t, apps, { method: 'PATCH', url: `/v1.0/applications/${app.id}`, payload: {} }), 400, 'Request_BadRequest');
      expectGraphError(await call(t, apps, { method: 'GET', url: '/v1.0/applications?$filter=colour eq 1' }), 400, 'Request_BadRequest', /colour/);
    });
  });

  describe('service principals', () => {
    it('creates one per application (a second is refused), gets, lists, updates and deletes', async () => {
      const { app, sp } = await newSp({ appRoleAssignmentRequired: true });
      expect(sp).toMatchObject({
        appId: app.appId,
        displayName: app.displayName,
        appRoleAssignmentRequired: true,
        accountEnabled: true,
        servicePrincipalType: 'Application',
        replyUrls: app.web.redirectUris,
      });
      expectGraphError(
        await call(t, apps, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: app.appId } }),
        400,
        'Request_MultipleObjectsWithSameKeyValue',
      );
      const listed = await ok(call(t, apps, { method: 'GET', url: `/v1.0/servicePrincipals?$filter=appId eq '${app.appId}'` }), 200);
      expect(listed.value.map((s: { id: string }) => s.id)).toEqual([sp.id]);
      await ok(call(t, apps, { method: 'PATCH', url: `/v1.0/servicePrincipals/${sp.id}`, payload: { appRoleAssignmentRequired: false } }), 204);
      expect((await ok(call(t, apps, { method: 'GET', url: `/v1.0/servicePrincipals/${sp.id}` }), 200)).appRoleAssignmentRequired).toBe(false);
      expect((await audits('Add service principal')).some((a) => a.targetResources[0]!.id === sp.id)).toBe(true);
      await ok(call(t, apps, { method: 'DELETE', url: `/v1.0/servicePrincipals/${sp.id}` }), 204);
      expectGraphError(await call(t, apps, { method: 'GET', url: `/v1.0/servicePrincipals/${sp.id}` }), 404, 'Request_ResourceNotFound');
    });

    it('refuses an unknown appId, bad bodies and unknown ids', async () => {
      expectGraphError(
        await call(t, apps, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: '5c4b1d77-0000-4000-8000-000000000000' } }),
        400,
        'Request_BadRequest',
        /valid application/,
      );
      expectGraphError(await call(t, apps, { method: 'POST', url: '/v1.0/servicePrincipals', payload: { appId: 'nope' } }), 400, 'Request_BadRequest');
      expectGraphError(await call(t, apps, { method: 'POST', url: '/v1.0/servicePrincipals', payload: {} }), 400, 'Request_BadRequest', /appId/);
      const { sp } = await newSp();
      expectGraphError(
        await call(t, apps, { method: 'PATCH', url: `/v1.0/servicePrincipals/${sp.id}`, payload: { displayName: 'x' } }),
        400,
        'Request_BadRequest',
        /read-only/,
      );
      expectGraphError(await call(t, apps, { method: 'PATCH', url: `/v1.0/servicePrincipals/${sp.id}`, payload: {} }), 400, 'Request_BadRequest');
      expectGraphError(await call(t, apps, { method: 'GET', url: '/v1.0/servicePrincipals/not-an-id' }), 404, 'Request_ResourceNotFound');
    });
  });

  describe('app role assignments', () => {
    it('assigns a user (201, Graph shape), lists it both ways, audits, and removes it (204)', async () => {
      const { app, sp } = await newSp();
      await ok(
        call(t, apps, {
          method: 'PATCH',
          url: `/v1.0/applications/${app.id}`,
          payload: { appRoles: [{ id: ROLE, value: 'Reader', displayName: 'Reader', allowedMemberTypes: ['User'] }] },
        }),
        204,
      );
      const user = await createMember(t, admin, `Assigned ${n}`);
      const a = await ok(assign(sp.id, user, ROLE), 201);
      expect(a).toMatchObject({
        '@odata.context': 'http://foyer.test/v1.0/$metadata#appRoleAssignments/$entity',
        appRoleId: ROLE,
        principalId: user,
        principalType: 'User',
        principalDisplayName: `Assigned ${n}`,
        resourceId: sp.id,
        resourceDisplayName: app.displayName,
        deletedDateTime: null,
      });
      expectGraphError(await assign(sp.id, user, ROLE), 400, 'Request_BadRequest', 'Permission being assigned already exists on the object');
      expect(
        (await ok(call(t, apps, { method: 'GET', url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo` }), 200)).value.map((x: { id: string }) => x.id),
      ).toEqual([a.id]);
      expect((await ok(call(t, apps, { method: 'GET', url: `/v1.0/users/${user}/appRoleAssignments` }), 200)).value.map((x: { id: string }) => x.id)).toEqual([
        a.id,
      ]);
      expect((await audits('Add app role assignment grant to user')).some((x) => x.targetResources[0]!.id === user)).toBe(true);
      await ok(call(t, apps, { method: 'DELETE', url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo/${a.id}` }), 204);
      expect((await audits('Remove app role assignment from user')).some((x) => x.targetResources[0]!.id === user)).toBe(true);
      expectGraphError(
        await call(t, apps, { method: 'DELETE', url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo/${a.id}` }),
        404,
        'Request_ResourceNotFound',
      );
    });

    it('assigns groups, and through /users/{id}/appRoleAssignments', async () => {
      const { sp } = await newSp();
      const group = await ok(
        call(t, apps, {
          method: 'POST',
          url: '/v1.0/groups',
          payload: { displayName: `G${n}`, mailNickname: `g${n}`, mailEnabled: false, securityEnabled: true },
        }),
        201,
      );
      const a = await ok(assign(sp.id, group.id), 201);
      expect(a.principalType).toBe('Group');
      expect((await ok(call(t, apps, { method: 'GET', url: `/v1.0/groups/${group.id}/appRoleAssignments` }), 200)).value).toHaveLength(1);
      const user = await createMember(t, admin, `Via User ${n}`);
      const b = await ok(
        call(t, apps, {
          method: 'POST',
          url: `/v1.0/users/${user}/appRoleAssignments`,
          payload: { principalId: user, resourceId: sp.id, appRoleId: DEFAULT_ACCESS },
        }),
        201,
      );
      await ok(call(t, apps, { method: 'DELETE', url: `/v1.0/users/${user}/appRoleAssignments/${b.id}` }), 204);
    });

    it('refuses bad assignments with clear 4xx answers', async () => {
      const { sp } = await newSp();
      const other = await newSp();
      const user = await createMember(t, admin, `Bad ${n}`);
      expectGraphError(await assign(sp.id, user, ROLE), 400, 'Request_BadRequest', /not found on application/);
      expectGraphError(await assign(sp.id, '5c4b1d77-0000-4000-8000-000000000000'), 404, 'Request_ResourceNotFound');
      expectGraphError(await assign('5c4b1d77-0000-4000-8000-000000000000', user), 404, 'Request_ResourceNotFound');
      expectGraphError(
        await call(t, apps, {
          method: 'POST',
          url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`,
          payload: { principalId: user, resourceId: other.sp.id, appRoleId: DEFAULT_ACCESS },
        }),
        400,
        'Request_BadRequest',
        /resourceId/,
      );
      expectGraphError(
        await call(t, apps, {
          method: 'POST',
          url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`,
          payload: { principalId: 'x', resourceId: sp.id, appRoleId: DEFAULT_ACCESS },
        }),
        400,
        'Request_BadRequest',
      );
      expectGraphError(
        await call(t, apps, { method: 'POST', url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`, payload: { principalId: user } }),
        400,
        'Request_BadRequest',
        /required/,
      );
      expectGraphError(
        await call(t, apps, {
          method: 'POST',
          url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`,
          payload: { principalId: user, resourceId: sp.id, appRoleId: DEFAULT_ACCESS, id: 'x' },
        }),
        400,
        'Request_BadRequest',
        /read-only/,
      );
      const a = await ok(assign(other.sp.id, user), 201);
      expectGraphError(
        await call(t, apps, { method: 'DELETE', url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo/${a.id}` }),
        404,
        'Request_ResourceNotFound',
      );
      expectGraphError(
        await call(t, apps, { method: 'GET', url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo?$filter=principalId eq 'x'` }),
        400,
        'Request_UnsupportedQuery',
      );
    });

    it('a deleted user’s assignments leave the lists and come back with a restore', async () => {
      const { sp } = await newSp();
      const user = await createMember(t, admin, `Restorable ${n}`);
      const a = await ok(assign(sp.id, user), 201);
      await ok(call(t, apps, { method: 'DELETE', url: `/v1.0/users/${user}` }), 204);
      expect((await ok(call(t, apps, { method: 'GET', url: `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo` }), 200)).value).toEqual([]);
      await ok(call(t, apps, { method: 'POST', url: `/v1.0/directory/deletedItems/${user}/restore` }), 200);
      expect((await ok(call(t, apps, { method: 'GET', url: `/v1.0/users/${user}/appRoleAssignments` }), 200)).value.map((x: { id: string }) => x.id)).toEqual([
        a.id,
      ]);
      // A permanent delete removes them for good.
      await ok(call(t, apps, { method: 'DELETE', url: `/v1.0/users/${user}` }), 204);
      await ok(call(t, apps, { method: 'DELETE', url: `/v1.0/directory/deletedItems/${user}` }), 204);
      expect(await t.database.db.selectFrom('app_role_assignments').select('id').where('id', '=', a.id).executeTakeFirst()).toBeUndefined();
    });
  });

  describe('inviting straight into apps, and My apps', () => {
    it('the invitation assigns the guest in the same transaction, audited; an unknown app writes nothing', async () => {
      const { sp } = await newSp();
      const inv = await ok(
        call(t, admin, {
          method: 'POST',
          url: '/v1.0/foyer/invitations',
          payload: { invitedUserEmailAddress: 'ines@fabrikam.test', inviteRedirectUrl: 'https://apps.contoso.test/', apps: [sp.id] },
        }),
        201,
      );
      expect(inv.apps).toEqual([{ id: sp.id, appId: sp.appId, displayName: sp.displayName }]);
      const list = await ok(call(t, apps, { method: 'GET', url: `/v1.0/users/${inv.invitedUser.id}/appRoleAssignments` }), 200);
      expect(list.value).toMatchObject([{ resourceId: sp.id, appRoleId: DEFAULT_ACCESS, principalType: 'User' }]);

      const res = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/foyer/invitations',
        payload: {
          invitedUserEmailAddress: 'nobody@fabrikam.test',
          inviteRedirectUrl: 'https://apps.contoso.test/',
          apps: ['5c4b1d77-0000-4000-8000-000000000000'],
        },
      });
      expectGraphError(res, 404, 'Request_ResourceNotFound');
      expect(await t.database.db.selectFrom('users').select('id').where('mail_lower', '=', 'nobody@fabrikam.test').executeTakeFirst()).toBeUndefined();
    });

    it('an inviter who may not assign apps is refused (403) and nothing is written', async () => {
      const { sp } = await newSp();
      const inviter = { token: await t.clientToken(['User.Invite.All']) };
      const res = await call(t, inviter, {
        method: 'POST',
        url: '/v1.0/foyer/invitations',
        payload: { invitedUserEmailAddress: 'noapps@fabrikam.test', inviteRedirectUrl: 'https://apps.contoso.test/', apps: [sp.appId] },
      });
      expectGraphError(res, 403, 'Authorization_RequestDenied');
      expect(await t.database.db.selectFrom('users').select('id').where('mail_lower', '=', 'noapps@fabrikam.test').executeTakeFirst()).toBeUndefined();
    });

    it('My apps lists what the person may open, directly or through a group; /my shows it', async () => {
      const direct = await newSp();
      const viaGroup = await newSp();
      const hidden = await newSp();
      await ok(
        call(t, apps, { method: 'PATCH', url: `/v1.0/applications/${direct.app.id}`, payload: { web: { homePageUrl: 'https://direct.contoso.test/' } } }),
        204,
      );
      const group = await ok(
        call(t, apps, {
          method: 'POST',
          url: '/v1.0/groups',
          payload: { displayName: `Apps ${n}`, mailNickname: `apps${n}`, mailEnabled: false, securityEnabled: true },
        }),
        201,
      );
      await ok(assign(viaGroup.sp.id, group.id), 201);
      const codes = codeReader(t);
      const inv = await ok(
        call(t, admin, {
          method: 'POST',
          url: '/v1.0/foyer/invitations',
          payload: { invitedUserEmailAddress: 'mya@fabrikam.test', inviteRedirectUrl: 'https://apps.contoso.test/', apps: [direct.sp.id], groups: [group.id] },
        }),
        201,
      );
      const cookie = await redeem(t, codes, browser(t, '10.9.9.9'), inv.inviteRedeemUrl, 'mya@fabrikam.test');
      const mine = await t.app.inject({ method: 'GET', url: '/v1.0/me/foyer/apps', cookies: { [SESSION_COOKIE]: cookie } });
      expect(mine.statusCode).toBe(200);
      const ids = (mine.json().value as { id: string }[]).map((a) => a.id);
      expect(ids.sort()).toEqual([direct.sp.id, viaGroup.sp.id].sort());
      expect(ids).not.toContain(hidden.sp.id);
      const page = await t.app.inject({ method: 'GET', url: '/my', cookies: { [SESSION_COOKIE]: cookie } });
      expect(page.body).toContain('Your apps');
      expect(page.body).toContain('href="https:&#47;&#47;direct.contoso.test&#47;"');
      expectGraphError(await call(t, apps, { method: 'GET', url: '/v1.0/me/foyer/apps' }), 400, 'Request_BadRequest');
    });

    it('app names are escaped on My access', async () => {
      const { app, sp } = await newSp();
      await ok(call(t, apps, { method: 'PATCH', url: `/v1.0/applications/${app.id}`, payload: { displayName: '<script>alert(1)</script>' } }), 204);
      const guest = await createGuest(t, admin, 'esc@fabrikam.test');
      await ok(assign(sp.id, guest), 201);
      const session = await t.signIn('esc@fabrikam.test', 'Member-Passw0rd!');
      const page = await t.app.inject({ method: 'GET', url: '/my', cookies: { [SESSION_COOKIE]: session.cookie } });
      expect(page.body).not.toContain('<script>alert');
      expect(page.body).toContain('&#60;script&#62;');
    });
  });
});
