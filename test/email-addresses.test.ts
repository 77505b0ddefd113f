import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailProblem, foldEmail, visibleText } from '../src/directory/email.js';
import { call, createTestApp, expectGraphError, testEngine, type Caller, type TestApp } from './helpers/test-app.js';

const OWN = ['contoso.test'];
/** U+212A KELVIN SIGN: `toLowerCase()` turns it into a plain 'k'. */
const KELVIN_KIM = '\u212Aim@fabrikam.test';
/** Addresses no path may take: the reason each message must give. */
const refused: [string, RegExp][] = [
  [KELVIN_KIM, /'\u212A' \(U\+212A\).*'k'/],
  ['kim\u200B@fabrikam.test', /invisible or control character \(U\+200B\)/],
  ['kim@fabri\u200Dkam.test', /invisible or control character \(U\+200D\)/],
  ['ki\u202Em@fabrikam.test', /invisible or control character \(U\+202E\)/],
  ['kim\u2066@fabrikam.test', /invisible or control character \(U\+2066\)/],
  ['ki\uFEFFm@fabrikam.test', /invisible or control character \(U\+FEFF\)/],
  ['ki\u00ADm@fabrikam.test', /invisible or control character \(U\+00AD\)/],
  ['kim\u0007@fabrikam.test', /invisible or control character \(U\+0007\)/],
  ['\u017Fam@fabrikam.test', /U\+017F.*'s'/],
  ['stra\u00DFe@fabrikam.test', /U\+00DF.*'ss'/],
  ['\uFF4Bim@fabrikam.test', /U\+FF4B.*'k'/],
  ['\u00C9mile@fabrikam.test', /U\+00C9.*'é'/],
  ['e\u0301va@fabrikam.test', /composed form/],
  ['ana@b\u00FCcher.example', /ASCII \(punycode\) form: 'ana@xn--bcher-kva\.example'/],
  // Cyrillic 'а' before the organization's own domain, and the domain spelled with a Cyrillic 'с' or a Greek 'ο'.
  ['\u0430na@contoso.test', /organization's domain 'contoso\.test' take only ASCII/],
  ['ana@xn--ontoso-hrf.test', /\(\u0441ontoso\.test\) looks like the organization's domain 'contoso\.test'/],
  ['ana@mail.xn--cntoso-i0e.test', /looks like the organization's domain 'contoso\.test'/],
  ['ana@xn--contos-gxa.test', /\(contos\u00F3\.test\) looks like the organization's domain/],
];

describe('email addresses: the rules', () => {
  it.each(refused)('refuses %j', (address, reason) => {
    const problem = emailProblem(address, OWN);
    expect(problem).toMatch(reason);
    expect(problem).toMatch(/^The email address '.+' is not valid: /);
  });

  it.each([
    'ana@fabrikam.test',
    'Ana.Vries@Fabrikam.TEST',
    'jos\u00E9@fabrikam.test',
    'ana@xn--bcher-kva.example',
    'ana@shop.xn--p1ai',
    'ana@contoso.test',
    'ana@mail.contoso.test',
    'ana@xn--cntoso-i0e.example',
  ])('accepts %j', (address) => expect(emailProblem(address, OWN)).toBeNull());

  it('quotes invisible characters visibly, and folds by ASCII lower-casing only', () => {
    expect(emailProblem('kim\u200B@fabrikam.test')).toContain("'kim<U+200B>@fabrikam.test'");
    expect(foldEmail('Ana.VRIES@Fabrikam.test')).toBe('ana.vries@fabrikam.test');
    expect(foldEmail(KELVIN_KIM)).toBe(KELVIN_KIM);
  });
});

describe(`email addresses that fold, on every path that takes one (${testEngine})`, () => {
  let t: TestApp;
  let admin: Caller;
  let kimId: string;
  const post = (url: string, payload: Record<string, unknown>) => call(t, admin, { method: 'POST', url, payload });
  const inviteBody = (address: string, extra: Record<string, unknown> = {}) => ({
    invitedUserEmailAddress: address,
    inviteRedirectUrl: 'https://apps.contoso.test/',
    ...extra,
  });
  const invitationsOfKim = async () =>
    (await call(t, admin, { method: 'GET', url: `/v1.0/foyer/invitations?$filter=invitedUser/id eq '${kimId}'` })).json().value as unknown[];
  /** 400 in Graph's envelope, its message naming the address (invisible characters written as <U+XXXX>) and giving the reason. */
  const expectRefused = (res: Awaited<ReturnType<typeof post>>, address: string, reason: RegExp) => {
    const error = expectGraphError(res, 400, 'Request_BadRequest', reason);
    expect(error.message).toContain(`'${visibleText(address)}'`);
  };

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    const res = await post('/v1.0/invitations', inviteBody('kim@fabrikam.test'));
    expect(res.statusCode, res.body).toBe(201);
    kimId = res.json().invitedUser.id;
  });
  afterAll(() => t.close());

  it('an invitation to the Kelvin-sign spelling of a guest’s address is refused, and attaches nothing to that guest', async () => {
    expectRefused(await post('/v1.0/invitations', inviteBody(KELVIN_KIM)), KELVIN_KIM, /U\+212A/);
    expectRefused(await post('/v1.0/foyer/invitations', inviteBody(KELVIN_KIM)), KELVIN_KIM, /U\+212A/);
    expect(await invitationsOfKim()).toHaveLength(1);
  });

  it('single invitations refuse every folding, invisible or look-alike address, and cc recipients too', async () => {
    for (const [address, reason] of refused) expectRefused(await post('/v1.0/invitations', inviteBody(address)), address, reason);
    const cc = 'boss\u200B@fabrikam.test';
    expectRefused(
      await post('/v1.0/invitations', inviteBody('lena@fabrikam.test', { invitedUserMessageInfo: { ccRecipients: [{ emailAddress: { address: cc } }] } })),
      cc,
      /U\+200B/,
    );
    const made = await call(t, admin, { method: 'GET', url: "/v1.0/users?$filter=userType eq 'Guest'&$select=mail" });
    expect((made.json().value as { mail: string }[]).map((u) => u.mail)).toEqual(['kim@fabrikam.test']);
  });

  it('an internationalized domain in its xn-- form is invited as it is', async () => {
    const res = await post('/v1.0/invitations', inviteBody('lena@xn--bcher-kva.example'));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().invitedUserEmailAddress).toBe('lena@xn--bcher-kva.example');
  });

  it('the domain lists of the collaboration policy take internationalized domains in their xn-- form only', async () => {
    const patch = (domains: string[]) => call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/policies/collaboration', payload: { mode: 'deny', domains } });
    expect((await patch(['shop.xn--p1ai', '*.xn--bcher-kva.example'])).statusCode).toBe(204);
    expectGraphError(await patch(['b\u00FCcher.example']), 400, 'Request_BadRequest', "'b\u00FCcher.example' is not a domain name.");
    expect((await call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/policies/collaboration', payload: { mode: 'none' } })).statusCode).toBe(204);
  });

  it('bulk upload lines with such addresses fail with the reason; the others are valid', async () => {
    const lines = [KELVIN_KIM, 'kim\u200B@fabrikam.test', '\u0430na@contoso.test', 'ana@b\u00FCcher.example', 'ok@fabrikam.test'];
    const res = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/foyer/bulkInvitations?validateOnly=true&redirectUrl=https://apps.contoso.test/',
      headers: { 'content-type': 'text/csv' },
      payload: `email\n${lines.join('\n')}\n`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const preview = res.json() as { valid: number; failed: number; errors: { line: number; column: string; reason: string }[] };
    expect(preview).toMatchObject({ valid: 1, failed: 4 });
    expect(preview.errors.map((e) => [e.line, e.column])).toEqual([
      [2, 'email'],
      [3, 'email'],
      [4, 'email'],
      [5, 'email'],
    ]);
    expect(preview.errors[0]!.reason).toMatch(/U\+212A/);
    expect(preview.errors[1]!.reason).toContain("'kim<U+200B>@fabrikam.test'");
    expect(preview.errors[2]!.reason).toMatch(/take only ASCII/);
    expect(preview.errors[3]!.reason).toMatch(/xn--bcher-kva/);
  });

  it('adding the Kelvin-sign spelling to a team is refused instead of adding the guest it folds onto', async () => {
    const team = await post('/v1.0/teams', { displayName: 'Folding team' });
    expect(team.statusCode, team.body).toBe(202);
    const teamId = team.json().id as string;
    expectRefused(await post(`/v1.0/teams/${teamId}/members`, { email: KELVIN_KIM }), KELVIN_KIM, /U\+212A/);
    expectRefused(await post(`/v1.0/teams/${teamId}/members`, { email: 'new\u200B@fabrikam.test' }), 'new\u200B@fabrikam.test', /U\+200B/);
    const members = (await call(t, admin, { method: 'GET', url: `/v1.0/teams/${teamId}/members` })).json().value as { userId: string }[];
    expect(members.map((m) => m.userId)).not.toContain(kimId);
  });

  it('sharing a site or a file with the Kelvin-sign spelling is refused instead of sharing with the guest it folds onto', async () => {
    const site = await post('/v1.0/sites', { displayName: 'Folding site' });
    expect(site.statusCode, site.body).toBe(201);
    const siteId = site.json().id as string;
    expectRefused(await post(`/v1.0/foyer/sites/${siteId}/members`, { email: KELVIN_KIM, role: 'visitor' }), KELVIN_KIM, /U\+212A/);
    const members = (await call(t, admin, { method: 'GET', url: `/v1.0/foyer/sites/${siteId}/members` })).json().value as { id: string }[];
    expect(members.map((m) => m.id)).not.toContain(kimId);

    const drive = (await call(t, admin, { method: 'GET', url: `/v1.0/sites/${siteId}/drive` })).json().id as string;
    const file = await call(t, admin, {
      method: 'PUT',
      url: `/v1.0/drives/${drive}/root:/notes.txt:/content`,
      headers: { 'content-type': 'text/plain' },
      payload: 'notes',
    });
    expect(file.statusCode, file.body).toBe(201);
    const shared = await post(`/v1.0/drives/${drive}/items/${file.json().id}/invite`, { recipients: [{ email: KELVIN_KIM }], roles: ['read'] });
    expectRefused(shared, KELVIN_KIM, /U\+212A/);
    expect(await invitationsOfKim()).toHaveLength(1);
  });

  it('a user’s mail and otherMails refuse such addresses, on create and on update', async () => {
    const created = await post('/v1.0/users', {
      accountEnabled: true,
      displayName: 'Kelvin Kim',
      mailNickname: 'kelvinkim',
      userPrincipalName: 'kelvinkim@contoso.test',
      mail: KELVIN_KIM,
      passwordProfile: { password: 'Member-Passw0rd!' },
    });
    expectRefused(created, KELVIN_KIM, /U\+212A/);
    const patch = (payload: Record<string, unknown>) => call(t, admin, { method: 'PATCH', url: `/v1.0/users/${t.admin.id}`, payload });
    expectRefused(await patch({ otherMails: ['admin\u200B@fabrikam.test'] }), 'admin\u200B@fabrikam.test', /U\+200B/);
    expectRefused(await patch({ mail: '\u0430dmin@contoso.test' }), '\u0430dmin@contoso.test', /take only ASCII/);
    expectRefused(await patch({ otherMails: ['admin@xn--ontoso-hrf.test'] }), 'admin@xn--ontoso-hrf.test', /looks like/);
    expect((await patch({ otherMails: ['admin@xn--bcher-kva.example'] })).statusCode).toBe(204);
  });
});
