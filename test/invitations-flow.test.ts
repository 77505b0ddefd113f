import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestApp, linkIn, outboxFor, runJobs, testEngine, type TestApp } from './helpers/test-app.js';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';

/** A form as the guest's browser posts it from Foyer's own page. */
const form = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://foyer.test' },
});

describe(`invitation to acceptance through the outbox (${testEngine})`, () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp();
    token = await t.clientToken(['User.Invite.All', 'User.Read.All', 'Directory.ReadWrite.All']);
  });
  afterAll(() => t.close());

  it('invites, emails, consents, signs in with the emailed code and ends Accepted', async () => {
    const res = await call(
      t,
      { token },
      {
        method: 'POST',
        url: '/v1.0/invitations',
        payload: {
          invitedUserEmailAddress: 'Ana.Vries@Fabrikam.test',
          inviteRedirectUrl: 'https://apps.contoso.test/start',
          sendInvitationMessage: true,
          invitedUserMessageInfo: { customizedMessageBody: 'Welkom <b>Ana</b> & team', messageLanguage: 'nl-NL' },
        },
      },
    );
    expect(res.statusCode).toBe(201);
    const inv = res.json();
    expect(inv.status).toBe('PendingAcceptance');
    expect(inv.invitedUser.userPrincipalName).toBe('ana.vries_fabrikam.test#EXT#@contoso.test');
    expect(inv.inviteRedeemUrl).toMatch(/^http:\/\/foyer\.test\/redeem\?t=[\w-]{43}$/);

    const user = (
      await call(
        t,
        { token },
        { method: 'GET', url: `/v1.0/users/${inv.invitedUser.id}?$select=userType,creationType,externalUserState,mail,identities,displayName` },
      )
    ).json();
    expect(user).toMatchObject({
      userType: 'Guest',
      creationType: 'Invitation',
      externalUserState: 'PendingAcceptance',
      mail: 'Ana.Vries@Fabrikam.test',
      displayName: 'Ana.Vries',
    });
    expect(user.identities).toEqual([
      { signInType: 'userPrincipalName', issuer: 'contoso.test', issuerAssignedId: 'ana.vries_fabrikam.test#EXT#@contoso.test' },
    ]);

    expect(await runJobs(t)).toBe(1);
    const mail = (await outboxFor(t, 'Ana.Vries@Fabrikam.test')).find((m) => m.subject.includes('uitgenodigd'));
    expect(mail!.status).toBe('sent');
    expect(mail!.subject).toContain('heeft je uitgenodigd');
    expect(mail!.html).toContain('Welkom &#60;b&#62;Ana&#60;&#47;b&#62; &#38; team');
    expect(mail!.html).not.toContain('<b>Ana</b>');
    expect(mail!.text).toContain('Welkom <b>Ana</b> & team');
    const link = linkIn(mail!.text, 'http://foyer.test/redeem?t=').replace('http://foyer.test', '');
    expect(link).toBe(inv.inviteRedeemUrl.replace('http://foyer.test', ''));

    const consent = await t.app.inject({ method: 'GET', url: link });
    expect(consent.statusCode).toBe(200);
    expect(consent.body).toContain('Machtigingen controleren');
    const tok = new URL(`http://x${link}`).searchParams.get('t')!;
    const accepted = await t.app.inject({ method: 'POST', url: '/redeem/accept', ...form({ t: tok }) });
    expect(accepted.statusCode).toBe(200);
    await runJobs(t);
    const codeMail = (await outboxFor(t, 'Ana.Vries@Fabrikam.test')).find((m) => m.subject.includes('verificatiecode'))!;
    const code = /\b(\d{8})\b/.exec(codeMail.text)![1]!;

    const wrong = await t.app.inject({ method: 'POST', url: '/redeem/verify', ...form({ t: tok, code: '00000000' === code ? '11111111' : '00000000' }) });
    expect(wrong.statusCode).toBe(400);
    const done = await t.app.inject({ method: 'POST', url: '/redeem/verify', ...form({ t: tok, code }) });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('https://apps.contoso.test/start');
    const cookie = done.cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect(cookie.httpOnly).toBe(true);

    const after = (await call(t, { token }, { method: 'GET', url: `/v1.0/users/${inv.invitedUser.id}?$select=externalUserState,identities` })).json();
    expect(after.externalUserState).toBe('Accepted');
    expect(after.identities).toEqual([{ signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: 'Ana.Vries@Fabrikam.test' }]);
    const my = await t.app.inject({ method: 'GET', url: '/my', cookies: { [SESSION_COOKIE]: cookie.value } });
    expect(my.statusCode).toBe(200);
    expect(my.body).toContain('Contoso');

    const audit = await call(
      t,
      { token: await t.clientToken(['AuditLog.Read.All']) },
      { method: 'GET', url: `/v1.0/auditLogs/directoryAudits?$filter=targetResources/any(x: x/id eq '${inv.invitedUser.id}')` },
    );
    expect(
      audit
        .json()
        .value.map((a: { activityDisplayName: string }) => a.activityDisplayName)
        .sort(),
    ).toEqual(['Invitation email sent', 'Invite external user', 'Redeem external user invite']);

    // The link is single use.
    expect((await t.app.inject({ method: 'GET', url: link })).statusCode).toBe(410);
  });
});
