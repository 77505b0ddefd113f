import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { MEMBER_PASSWORD, call, createMember, createTestApp, expectGraphError, testEngine, type Caller, type TestApp } from './helpers/test-app.js';

const NOT_FOUND = (id: string) => `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`;

describe(`errors (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let bob: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { token: await t.clientToken(['User.ReadWrite.All', 'Group.ReadWrite.All', 'AuditLog.Read.All']) };
    bob = await createMember(t, admin, 'Bob Existing', { jobTitle: 'Baker' });
  });
  afterAll(() => t.close());

  const validUser = (nick: string, extra: Record<string, unknown> = {}) => ({
    accountEnabled: true,
    displayName: `User ${nick}`,
    mailNickname: nick,
    userPrincipalName: `${nick}@contoso.test`,
    passwordProfile: { password: MEMBER_PASSWORD },
    ...extra,
  });
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    call(t, admin, { method: 'POST', url: '/v1.0/users', payload: payload as string, headers });
  const patchBob = (payload: unknown, headers: Record<string, string> = {}) =>
    call(t, admin, { method: 'PATCH', url: `/v1.0/users/${bob}`, payload: payload as string, headers });

  /** Users and audit entries: a refused write must leave both as they were. */
  async function snapshot() {
    const users = await call(t, admin, { method: 'GET', url: '/v1.0/users/$count', headers: { consistencylevel: 'eventual' } });
    const audits = await t.database.db
      .selectFrom('audit_logs')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const bobNow = await call(t, admin, { method: 'GET', url: `/v1.0/users/${bob}?$select=displayName,jobTitle,mail,userPrincipalName,accountEnabled` });
    return { users: users.body, audits: Number(audits.n), bob: bobNow.json() };
  }
  /** Runs a refused write and checks that nothing changed. */
  async function refused(send: () => Promise<LightMyRequestResponse>, status: number, code: string, message?: string | RegExp) {
    const before = await snapshot();
    const error = expectGraphError(await send(), status, code, message);
    expect(await snapshot()).toEqual(before);
    return error;
  }

  describe('the envelope', () => {
    it('has code, message and innerError with date, request-id and the echoed client-request-id', async () => {
      const clientRequestId = randomUUID();
      const res = await call(t, admin, { method: 'GET', url: `/v1.0/users/${randomUUID()}`, headers: { 'client-request-id': clientRequestId } });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['client-request-id']).toBe(clientRequestId);
      const body = res.json();
      expect(Object.keys(body)).toEqual(['error']);
      expect(Object.keys(body.error)).toEqual(['code', 'message', 'innerError']);
      expect(body.error.innerError).toEqual({
        date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
        'request-id': res.headers['request-id'],
        'client-request-id': clientRequestId,
      });
      expect(body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('echoes client-request-id on successful responses too, and request ids differ per request', async () => {
      const a = await call(t, admin, { method: 'GET', url: '/v1.0/users?$top=1', headers: { 'client-request-id': 'my-trace-1' } });
      const b = await call(t, admin, { method: 'GET', url: '/v1.0/users?$top=1' });
      expect(a.headers['client-request-id']).toBe('my-trace-1');
      expect(a.headers['request-id']).not.toBe(b.headers['request-id']);
    });

    it('wraps 401 and 403 the same way', async () => {
      expectGraphError(await call(t, null, { method: 'GET', url: '/v1.0/users' }), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(await call(t, { token: 'not-a-token' }, { method: 'GET', url: '/v1.0/users' }), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(
        await t.app.inject({ method: 'GET', url: '/v1.0/users', headers: { authorization: 'Basic abc' } }),
        401,
        'Authentication_MissingOrMalformed',
      );
      const reader = { token: await t.clientToken(['Group.Read.All']) };
      expectGraphError(
        await call(t, reader, { method: 'GET', url: '/v1.0/users' }),
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    });
  });

  describe('not found', () => {
    it('an unknown id is 404 Request_ResourceNotFound quoting the id, for every verb', async () => {
      const ghost = randomUUID();
      for (const send of [
        () => call(t, admin, { method: 'GET', url: `/v1.0/users/${ghost}` }),
        () => call(t, admin, { method: 'PATCH', url: `/v1.0/users/${ghost}`, payload: { jobTitle: 'x' } }),
        () => call(t, admin, { method: 'DELETE', url: `/v1.0/users/${ghost}` }),
        () => call(t, admin, { method: 'GET', url: `/v1.0/users/${ghost}/memberOf` }),
        () => call(t, admin, { method: 'GET', url: `/v1.0/groups/${ghost}` }),
        () => call(t, admin, { method: 'GET', url: `/v1.0/groups/${ghost}/owners` }),
      ])
        await refused(send, 404, 'Request_ResourceNotFound', NOT_FOUND(ghost));
      await refused(
        () => call(t, admin, { method: 'GET', url: '/v1.0/users/nobody_fabrikam.test%23EXT%23%40contoso.test' }),
        404,
        'Request_ResourceNotFound',
        NOT_FOUND('nobody_fabrikam.test#EXT#@contoso.test'),
      );
      await refused(() => call(t, admin, { method: 'GET', url: '/v1.0/users/not-an-id' }), 404, 'Request_ResourceNotFound', NOT_FOUND('not-an-id'));
    });

    it('an unknown route is 404 in the same envelope', async () => {
      expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/contacts' }), 404, 'Request_ResourceNotFound', /\/v1\.0\/contacts/);
      expectGraphError(await call(t, admin, { method: 'POST', url: '/v1.0/users/x/y/z', payload: {} }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, admin, { method: 'GET', url: '/nothing-here' }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, admin, { method: 'PUT', url: `/v1.0/users/${bob}`, payload: { jobTitle: 'x' } }), 404, 'Request_ResourceNotFound');
    });

    it('a malformed or over-long URL is answered in the envelope too', async () => {
      const bad = await call(t, admin, { method: 'GET', url: '/v1.0/users/%E0%A4%A', headers: { 'client-request-id': 'bad-url' } });
      expectGraphError(bad, 400, 'Request_BadRequest');
      expect(bad.headers['client-request-id']).toBe('bad-url');
      expectGraphError(await call(t, admin, { method: 'GET', url: `/v1.0/users/${'a'.repeat(2000)}` }), 400, 'Request_BadRequest');
    });
  });

  describe('bad bodies', () => {
    it('malformed JSON is 400 and writes nothing', async () => {
      await refused(() => post('{"accountEnabled": true, "displayName": ', { 'content-type': 'application/json' }), 400, 'Request_BadRequest', /JSON/);
      await refused(() => patchBob('{jobTitle: "x"}', { 'content-type': 'application/json' }), 400, 'Request_BadRequest', /JSON/);
      await refused(() => post('', { 'content-type': 'application/json' }), 400, 'Request_BadRequest');
      await refused(() => post('[]', { 'content-type': 'application/json' }), 400, 'Request_BadRequest');
      await refused(() => post('null', { 'content-type': 'application/json' }), 400, 'Request_BadRequest');
    });

    it('an unknown property is 400 naming it', async () => {
      await refused(() => post(validUser('unknownprop', { favouriteColour: 'green' })), 400, 'Request_BadRequest', /'favouriteColour'/);
      await refused(() => patchBob({ jobTitle: 'Chef', shoeSize: 44 }), 400, 'Request_BadRequest', /'shoeSize'/);
      await refused(() => post(validUser('nestedprop', { passwordProfile: { password: MEMBER_PASSWORD, hint: 'x' } })), 400, 'Request_BadRequest', /'hint'/);
    });

    it('a read-only property is 400 saying it is read-only', async () => {
      await refused(() => post(validUser('withid', { id: randomUUID() })), 400, 'Request_BadRequest', /'id' is read-only/);
      await refused(
        () => post(validUser('withcreated', { createdDateTime: '2020-01-01T00:00:00Z' })),
        400,
        'Request_BadRequest',
        /'createdDateTime' is read-only/,
      );
      await refused(() => patchBob({ createdDateTime: '2020-01-01T00:00:00Z' }), 400, 'Request_BadRequest', /read-only/);
      await refused(() => patchBob({ externalUserState: 'Accepted' }), 400, 'Request_BadRequest', /read-only/);
    });

    it('a value of the wrong type is 400 naming the property', async () => {
      await refused(() => post(validUser('wrongtype', { accountEnabled: 'yes' })), 400, 'Request_BadRequest', /accountEnabled/);
      await refused(() => patchBob({ displayName: 42 }), 400, 'Request_BadRequest', /displayName/);
      await refused(() => patchBob({ otherMails: 'one@fabrikam.test' }), 400, 'Request_BadRequest', /otherMails/);
      await refused(() => patchBob({ userType: 'Alien' }), 400, 'Request_BadRequest', /userType/);
      await refused(() => patchBob({ displayName: null }), 400, 'Request_BadRequest', /displayName/);
      await refused(() => patchBob({}), 400, 'Request_BadRequest');
      await refused(() => post(validUser('missing', { displayName: undefined })), 400, 'Request_BadRequest', /'displayName' is required/);
    });

    it('a body over the 1 MiB limit is 413', async () => {
      await refused(() => post(validUser('huge', { displayName: 'x'.repeat(1024 * 1024) })), 413, 'Request_EntityTooLarge');
      await refused(() => patchBob({ jobTitle: 'y'.repeat(1024 * 1024 + 1) }), 413, 'Request_EntityTooLarge');
    });

    it('a body that is not JSON is 415', async () => {
      const body = JSON.stringify(validUser('plaintext'));
      for (const type of ['application/xml', 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded'])
        await refused(() => post(body, { 'content-type': type }), 415, 'Request_UnsupportedMediaType');
      await refused(() => patchBob(JSON.stringify({ jobTitle: 'Chef' }), { 'content-type': 'text/plain' }), 415, 'Request_UnsupportedMediaType');
      // JSON with a charset is JSON.
      const ok = await post(body, { 'content-type': 'application/json; charset=utf-8' });
      expect(ok.statusCode).toBe(201);
    });
  });

  describe('rules of the directory', () => {
    it('a duplicate userPrincipalName is 400, whatever its casing, on create and on update', async () => {
      const message = 'Another object with the same value for property userPrincipalName already exists.';
      await refused(() => post(validUser('bobexisting')), 400, 'Request_BadRequest', message);
      await refused(() => post(validUser('dup', { userPrincipalName: 'BobExisting@Contoso.test' })), 400, 'Request_BadRequest', message);
      const other = await createMember(t, admin, 'Other Person');
      await refused(
        () => call(t, admin, { method: 'PATCH', url: `/v1.0/users/${other}`, payload: { userPrincipalName: 'BOBEXISTING@contoso.test', jobTitle: 'Thief' } }),
        400,
        'Request_BadRequest',
        message,
      );
      expect((await call(t, admin, { method: 'GET', url: `/v1.0/users/${other}` })).json()).toMatchObject({
        userPrincipalName: 'otherperson@contoso.test',
        jobTitle: null,
      });
    });

    it('a userPrincipalName outside contoso.test, or malformed, is 400', async () => {
      await refused(
        () => post(validUser('outside', { userPrincipalName: 'outside@fabrikam.test' })),
        400,
        'Request_BadRequest',
        'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
      );
      await refused(() => post(validUser('sub', { userPrincipalName: 'sub@eu.contoso.test' })), 400, 'Request_BadRequest');
      await refused(() => patchBob({ userPrincipalName: 'bob@fabrikam.test' }), 400, 'Request_BadRequest');
      for (const upn of ['no-at-sign', 'two@@contoso.test', '.dot@contoso.test', 'dot.@contoso.test', 'sp ace@contoso.test'])
        await refused(() => post(validUser('malformed', { userPrincipalName: upn })), 400, 'Request_BadRequest');
    });

    it('a weak password is 400 with Graph message', async () => {
      const message = 'The specified password does not comply with password complexity requirements. Please provide a different password.';
      for (const password of ['Sh0rt!', 'alllowercase', 'lowercase1only', 'NOLOWER123', 'x'])
        await refused(() => post(validUser('weak', { passwordProfile: { password } })), 400, 'Request_BadRequest', message);
      await refused(() => patchBob({ passwordProfile: { password: 'password' } }), 400, 'Request_BadRequest', message);
      // Bob's password is unchanged.
      await t.signIn('bobexisting@contoso.test', MEMBER_PASSWORD);
    });

    it('an invalid mail or otherMails value is 400, and one bad property refuses the whole update', async () => {
      await refused(() => post(validUser('badmail', { mail: 'not-an-address' })), 400, 'Request_BadRequest', /mail/);
      await refused(() => patchBob({ jobTitle: 'Chef', mail: 'bob@@contoso.test' }), 400, 'Request_BadRequest', /mail/);
      await refused(() => patchBob({ displayName: 'Renamed Bob', otherMails: ['fine@fabrikam.test', 'bad address'] }), 400, 'Request_BadRequest', /otherMails/);
    });

    it('a refused group write leaves the group as it was', async () => {
      const res = await call(t, admin, {
        method: 'POST',
        url: '/v1.0/groups',
        payload: { displayName: 'Kept', mailNickname: 'kept', mailEnabled: false, securityEnabled: true },
      });
      const group = res.json().id as string;
      const before = (await call(t, admin, { method: 'GET', url: `/v1.0/groups/${group}` })).json();
      for (const payload of [
        { displayName: '' },
        { mailNickname: 'has space' },
        { visibility: 'Secret' },
        { displayName: 'New', createdDateTime: '2020-01-01T00:00:00Z' },
      ]) {
        const patched = await call(t, admin, { method: 'PATCH', url: `/v1.0/groups/${group}`, payload });
        expectGraphError(patched, 400, 'Request_BadRequest');
      }
      expect((await call(t, admin, { method: 'GET', url: `/v1.0/groups/${group}` })).json()).toEqual(before);
    });
  });
});
