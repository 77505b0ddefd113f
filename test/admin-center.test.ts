import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  createGuest,
  createMember,
  createTestApp,
  expectGraphError,
  MEMBER_PASSWORD,
  testEngine,
  type Session,
  type TestApp,
} from './helpers/test-app.js';
import { directoryRoles } from '../src/auth/permissions.js';
import { registerAdminCenter } from '../src/web/admin-center.routes.js';
import { csvField } from '../src/directory/guests-export.routes.js';

const html = { accept: 'text/html,application/xhtml+xml' };

describe(`admin center serving and its API (${testEngine})`, () => {
  let t: TestApp;
  let admin: Session;
  let member: Session;
  let helpdesk: Session;
  let guest: Session;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.signIn('admin@contoso.test', t.admin.password);
    await createMember(t, { session: admin }, 'Mia Member');
    const hdId = await createMember(t, { session: admin }, 'Hugo Helpdesk');
    await call(
      t,
      { session: admin },
      {
        method: 'POST',
        url: `/v1.0/directoryRoles/${directoryRoles.helpdeskAdministrator.id}/members/$ref`,
        payload: { '@odata.id': `http://foyer.test/v1.0/directoryObjects/${hdId}` },
      },
    );
    member = await t.signIn('miamember@contoso.test', MEMBER_PASSWORD);
    helpdesk = await t.signIn('hugohelpdesk@contoso.test', MEMBER_PASSWORD);
    await createGuest(t, { session: admin }, 'gus@fabrikam.test', 'Gus Guest');
    guest = await t.signIn('gus_fabrikam.test#EXT#@contoso.test', MEMBER_PASSWORD);
    const token = await t.clientToken(['User.Invite.All']);
    for (const [name, email] of [
      ['=HYPERLINK("http://evil.test")', 'formula@fabrikam.test'],
      ['Ana, "the" Vries', 'ana@northwind.test'],
    ])
      await call(
        t,
        { token },
        {
          method: 'POST',
          url: '/v1.0/invitations',
          payload: { invitedUserEmailAddress: email, invitedUserDisplayName: name, inviteRedirectUrl: 'https://x.test' },
        },
      );
    await call(
      t,
      { session: admin },
      {
        method: 'POST',
        url: '/v1.0/foyer/invitations',
        payload: { invitedUserEmailAddress: 'bo@fabrikam.test', invitedUserDisplayName: 'Bo Directory', inviteRedirectUrl: 'https://x.test' },
      },
    );
  });
  afterAll(() => t.close());

  describe('single-page app fallback', () => {
    it('answers a browser opening any page of the app with index.html (or says it is not built), with a strict CSP', async () => {
      const res = await call(t, null, { method: 'GET', url: '/users/guests?x=1', headers: html });
      expect([200, 503]).toContain(res.statusCode);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('keeps the API, guest pages and health answers as they were', async () => {
      expectGraphError(await call(t, null, { method: 'GET', url: '/v1.0/contacts', headers: html }), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(await call(t, { session: admin }, { method: 'GET', url: '/v1.0/contacts', headers: html }), 404, 'Request_ResourceNotFound');
      expectGraphError(await call(t, { session: admin }, { method: 'GET', url: '/nothing-here' }), 404, 'Request_ResourceNotFound');
      expect((await call(t, null, { method: 'GET', url: '/healthz', headers: html })).json()).toEqual({ status: 'ok' });
      expect((await call(t, null, { method: 'GET', url: '/signin', headers: html })).body).toContain('Send code');
      expect((await call(t, null, { method: 'GET', url: '/redeem?t=nope', headers: html })).statusCode).toBe(404);
      expect((await call(t, null, { method: 'GET', url: '/my', headers: html })).statusCode).toBe(303);
    });

    it('never serves a file outside the built app', async () => {
      for (const url of ['/../package.json', '/%2e%2e/package.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2fpackage.json']) {
        const res = await call(t, { session: admin }, { method: 'GET', url });
        expect(res.body).not.toContain('"name": "foyer"');
      }
    });

    it('says clearly when the app is not built', async () => {
      const empty = mkdtempSync(path.join(tmpdir(), 'foyer-web-'));
      const app = Fastify();
      try {
        await registerAdminCenter(app, { db: t.database.db, tenantId: t.tenant.id, outboxActive: true, inviteTtlDays: 30, root: empty });
        const res = await app.inject({ method: 'GET', url: '/', headers: html });
        expect(res.statusCode).toBe(503);
        expect(res.body).toContain('The admin center is not built');
        expect(res.body).toContain('npm run build');
      } finally {
        await app.close();
        rmSync(empty, { recursive: true, force: true });
      }
    });

    it('tells a signed-in person the organization and whether the outbox is in use', async () => {
      const res = await call(t, { session: member }, { method: 'GET', url: '/v1.0/foyer/adminCenter' });
      expect(res.json()).toEqual({
        organization: { id: t.tenant.id, displayName: 'Contoso', initialDomain: 'contoso.test' },
        mailOutbox: true,
        inviteTtlDays: 30,
      });
      expectGraphError(await call(t, null, { method: 'GET', url: '/v1.0/foyer/adminCenter' }), 401, 'Authentication_MissingOrMalformed');
    });
  });

  describe('users: source and inviter extensions, sponsors', () => {
    it('filters on foyerSource and names the inviter', async () => {
      const res = await call(
        t,
        { session: admin },
        {
          method: 'GET',
          url: `/v1.0/users?$filter=${encodeURIComponent("userType eq 'Guest' and foyerSource eq 'directory'")}&$select=displayName,foyerSource,foyerInvitedBy`,
        },
      );
      expect(res.statusCode).toBe(200);
      expect(res.json().value).toEqual([
        { id: expect.any(String), displayName: 'Bo Directory', foyerSource: 'directory', foyerInvitedBy: { id: t.admin.id, displayName: 'Administrator' } },
      ]);
      const api = await call(
        t,
        { session: admin },
        { method: 'GET', url: `/v1.0/users?$filter=${encodeURIComponent("foyerSource eq 'api'")}&$select=foyerInvitedBy` },
      );
      expect(api.json().value.map((u: { foyerInvitedBy: { displayName: string } }) => u.foyerInvitedBy.displayName)).toEqual([
        'client User.Invite.All',
        'client User.Invite.All',
      ]);
      expectGraphError(
        await call(t, { session: admin }, { method: 'GET', url: `/v1.0/users?$filter=${encodeURIComponent("foyerSource eq 'fax'")}` }),
        400,
        'Request_BadRequest',
      );
    });

    it('lists a guest’s sponsors (the inviter by default) and hides them from who may not read the guest', async () => {
      const bo = (await call(t, { session: admin }, { method: 'GET', url: `/v1.0/users/bo_fabrikam.test%23EXT%23@contoso.test` })).json();
      const res = await call(t, { session: admin }, { method: 'GET', url: `/v1.0/users/${bo.id}/sponsors` });
      expect(res.statusCode).toBe(200);
      expect(res.json().value).toEqual([
        {
          '@odata.type': '#microsoft.graph.user',
          id: t.admin.id,
          displayName: 'Administrator',
          mail: 'admin@contoso.test',
          userPrincipalName: 'admin@contoso.test',
        },
      ]);
      expectGraphError(await call(t, { session: guest }, { method: 'GET', url: `/v1.0/users/${bo.id}/sponsors` }), 404, 'Request_ResourceNotFound');
    });
  });

  describe('GET /v1.0/foyer/guests/export', () => {
    const exportAs = (caller: Parameters<typeof call>[1], query = '') => call(t, caller, { method: 'GET', url: `/v1.0/foyer/guests/export${query}` });

    it('streams every guest as CSV with the list’s filters, spreadsheet formulas made inert', async () => {
      const res = await exportAs({ session: admin });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(/^attachment; filename="guests-\d{4}-\d{2}-\d{2}\.csv"$/);
      const lines = res.body
        .replace(/^\ufeff/, '')
        .trim()
        .split('\r\n');
      expect(lines).toHaveLength(5); // header + 4 guests, no members
      expect(res.body).toContain(`"'=HYPERLINK(""http://evil.test"")",formula@fabrikam.test`);
      expect(res.body).toContain('"Ana, ""the"" Vries",ana@northwind.test');

      const filtered = await exportAs({ session: admin }, `?$filter=${encodeURIComponent("endsWith(mail,'@fabrikam.test')")}&$orderby=displayName desc`);
      expect(
        filtered.body
          .trim()
          .split('\r\n')
          .slice(1)
          .map((l) => l.split(',')[1]),
      ).toEqual(['gus@fabrikam.test', 'bo@fabrikam.test', 'formula@fabrikam.test']);
      const searched = await exportAs({ session: admin }, `?$search=${encodeURIComponent('"displayName:ana"')}`);
      expect(searched.body.trim().split('\r\n')).toHaveLength(2);
    });

    it('is for administrators and clients that may read users; a bad query is a Graph error', async () => {
      expect((await exportAs({ session: helpdesk })).statusCode).toBe(200);
      expect((await exportAs({ token: await t.clientToken(['User.Read.All']) })).statusCode).toBe(200);
      expectGraphError(await exportAs({ session: member }), 403, 'Authorization_RequestDenied');
      expectGraphError(await exportAs({ session: guest }), 403, 'Authorization_RequestDenied');
      expectGraphError(await exportAs({ token: await t.clientToken(['User.Invite.All']) }), 403, 'Authorization_RequestDenied');
      expectGraphError(await exportAs(null), 401, 'Authentication_MissingOrMalformed');
      expectGraphError(await exportAs({ session: admin }, `?$filter=${encodeURIComponent('jobTitle eq 1')}`), 400, 'Request_UnsupportedQuery');
      expectGraphError(await exportAs({ session: admin }, '?$orderby=mail'), 400, 'Request_UnsupportedQuery');
    });

    it('keeps the caller’s $filter inside its guest clause', async () => {
      const mailsIn = (res: { body: string }) =>
        res.body
          .replace(/^\ufeff/, '')
          .trim()
          .split('\r\n')
          .slice(1)
          .map((l) => l.split(',')[1]);
      const guestMails = mailsIn(await exportAs({ session: admin }));
      for (const filter of [
        "userType eq 'Member'",
        "displayName eq 'x' or userType eq 'Member'",
        "not(userType eq 'Guest')",
        "userType eq 'Guest' or userType eq 'Member'",
      ]) {
        const res = await exportAs({ session: admin }, `?$filter=${encodeURIComponent(filter)}`);
        expect(res.statusCode, `${filter}: ${res.body}`).toBe(200);
        for (const mail of mailsIn(res)) expect(guestMails, filter).toContain(mail);
      }
      // Closing the clause early is a syntax error of the caller's filter, not a way out of it.
      for (const filter of ["displayName eq 'x') or (userType eq 'Member'", "displayName eq 'x')) or ((userType eq 'Member'", ') or (true'])
        expectGraphError(await exportAs({ session: admin }, `?$filter=${encodeURIComponent(filter)}`), 400, 'Request_BadRequest');
      expectGraphError(await exportAs({ session: admin }, `?$filter=${encodeURIComponent("userType eq 'Guest'")}&$filter=x`), 400, 'Request_BadRequest');
    });

    it('quotes CSV fields by RFC 4180', () => {
      expect(csvField(null)).toBe('');
      expect(csvField('a,b')).toBe('"a,b"');
      expect(csvField('line\nbreak')).toBe('"line\nbreak"');
      expect(csvField('+31 6')).toBe("'+31 6");
      expect(csvField('@home')).toBe("'@home");
      expect(csvField('plain')).toBe('plain');
    });
  });
});
