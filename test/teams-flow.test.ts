import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../src/auth/auth.service.js';
import {
  MEMBER_PASSWORD,
  call,
  createMember,
  createTestApp,
  expectGraphError,
  linkIn,
  outboxFor,
  runJobs,
  type Session,
  type TestApp,
} from './helpers/test-app.js';
import { browser, codeReader, pageSession, redeem, signInWithCode, type CodeReader } from './helpers/guest-pages.js';

/**
 * The whole story over HTTP: an owner adds an outside email to a team, the guest redeems, posts,
 * reads a file, joins a meeting; an administrator deletes the guest (their live stream closes) and
 * restores them (the team membership comes back).
 */
describe('teams: a guest added by email, from invitation to removal and restore', () => {
  let t: TestApp;
  let admin: { session: Session };
  let owner: { session: Session };
  let guest: { session: Session };
  let guestCookie: string;
  let guestId: string;
  let teamId: string;
  let generalId: string;
  let driveId: string;
  let port: number;
  let codes: CodeReader;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { session: await t.signIn(t.admin.userPrincipalName, t.admin.password) };
    await createMember(t, admin, 'Olga Owner');
    owner = { session: await t.signIn('olgaowner@contoso.test', MEMBER_PASSWORD) };
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterAll(() => t.close());

  it('an owner creates a team with a General channel', async () => {
    const res = await call(t, owner, { method: 'POST', url: '/v1.0/teams', payload: { displayName: 'Project X', description: 'The X project' } });
    expect(res.statusCode, res.body).toBe(202);
    teamId = res.json().id;
    expect(res.headers['content-location']).toBe(`/teams('${teamId}')`);
    const channels = await call(t, owner, { method: 'GET', url: `/v1.0/teams/${teamId}/channels` });
    expect(channels.json().value.map((c: { displayName: string }) => c.displayName)).toEqual(['General']);
    generalId = channels.json().value[0].id;
    const members = await call(t, owner, { method: 'GET', url: `/v1.0/teams/${teamId}/members` });
    expect(members.json().value).toMatchObject([{ displayName: 'Olga Owner', roles: ['owner'] }]);
  });

  it('adding an outside email invites a guest with source teams, and the email names the team', async () => {
    const res = await call(t, owner, {
      method: 'POST',
      url: `/v1.0/teams/${teamId}/members`,
      payload: { email: 'gwen@outside.test', displayName: 'Gwen Guest' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ roles: ['guest'], email: 'gwen@outside.test' });
    guestId = res.json().userId;
    const invitations = await call(t, admin, { method: 'GET', url: `/v1.0/foyer/invitations?$filter=source eq 'teams'` });
    expect(invitations.json().value).toMatchObject([{ invitedUserEmailAddress: 'gwen@outside.test', source: 'teams', invitedUser: { id: guestId } }]);
    const guests = await call(t, admin, { method: 'GET', url: `/v1.0/users?$filter=userType eq 'Guest'` });
    expect(guests.json().value.map((u: { id: string }) => u.id)).toContain(guestId);
    await runJobs(t);
    const [mail] = await outboxFor(t, 'gwen@outside.test');
    expect(mail!.text).toContain('Project X');
    codes = codeReader(t);
    guestCookie = await redeem(t, codes, browser(t, '10.9.0.1'), linkIn(mail!.text, 'http://foyer.test/redeem'), 'gwen@outside.test');
    guest = { session: await pageSession(t, guestCookie) };
    const joined = await call(t, guest, { method: 'GET', url: '/v1.0/me/joinedTeams' });
    expect(joined.json().value).toMatchObject([{ id: teamId, displayName: 'Project X' }]);
  });

  it('the guest posts in General and sees it live; mentions and links are plain text', async () => {
    const post = await call(t, guest, {
      method: 'POST',
      url: `/v1.0/teams/${teamId}/channels/${generalId}/messages`,
      payload: { body: { content: 'Hi @Olga Owner, see https://example.test/plan <b>x</b>' } },
    });
    expect(post.statusCode, post.body).toBe(201);
    expect(post.json()).toMatchObject({ body: { contentType: 'text' }, from: { user: { id: guestId } }, mentions: [{ mentionText: 'Olga Owner' }] });
    const reply = await call(t, owner, {
      method: 'POST',
      url: `/v1.0/teams/${teamId}/channels/${generalId}/messages/${post.json().id}/replies`,
      payload: { body: { content: 'Welcome!' } },
    });
    expect(reply.statusCode).toBe(201);
    const list = await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages` });
    expect(list.json().value).toHaveLength(1);
    const page = await t.app.inject({ method: 'GET', url: `/teams/${teamId}`, cookies: { [SESSION_COOKIE]: guestCookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('&#60;b&#62;x&#60;&#47;b&#62;');
    expect(page.body).not.toContain('<b>x</b>');
    expect(page.body).toMatch(/<a href="https:&#47;&#47;example.test&#47;plan" rel="noopener noreferrer nofollow"/);
  });

  it('the guest reads a team file: downloads are attachments, PDFs preview', async () => {
    const drive = await call(t, guest, { method: 'GET', url: `/v1.0/groups/${teamId}/drive` });
    driveId = drive.json().id;
    const up = await call(t, owner, {
      method: 'PUT',
      url: `/v1.0/drives/${driveId}/root:/plan.pdf:/content`,
      payload: Buffer.from('%PDF-1.4 plan'),
      headers: { 'content-type': 'application/pdf' },
    });
    expect(up.statusCode, up.body).toBe(201);
    const itemId = up.json().id;
    const dl = await call(t, guest, { method: 'GET', url: `/v1.0/drives/${driveId}/items/${itemId}/content` });
    expect(dl.statusCode).toBe(200);
    expect(dl.headers['content-disposition']).toMatch(/^attachment; filename="plan.pdf"/);
    expect(dl.headers['content-type']).toBe('application/octet-stream');
    expect(dl.body).toBe('%PDF-1.4 plan');
    const pv = await call(t, guest, { method: 'GET', url: `/v1.0/drives/${driveId}/items/${itemId}/content?preview=1` });
    expect(pv.headers['content-type']).toBe('application/pdf');
    expect(pv.headers['content-disposition']).toMatch(/^inline/);
  });

  it('the guest gets a meeting invitation with an .ics file, joins, and the organizer downloads the attendance', async () => {
    const m = await call(t, owner, {
      method: 'POST',
      url: '/v1.0/me/onlineMeetings',
      payload: { subject: 'Kick-off', startDateTime: '2026-11-02T10:00:00Z', endDateTime: '2026-11-02T11:00:00Z', agenda: '1. Plan', teamId },
    });
    expect(m.statusCode, m.body).toBe(201);
    const meetingId = m.json().id;
    expect(m.json().joinWebUrl).toBe(`http://foyer.test/meet/${meetingId}`);
    const mails = (await outboxFor(t, 'gwen@outside.test')) as unknown as { subject: string; attachments: { filename: string; content: string }[] }[];
    const invite = mails.find((x) => x.subject === 'Invitation: Kick-off')!;
    expect(invite.attachments[0]!.filename).toBe('invite.ics');
    expect(invite.attachments[0]!.content).toContain('SUMMARY:Kick-off');
    expect(invite.attachments[0]!.content).toContain(`URL:http://foyer.test/meet/${meetingId}`);
    expect((await call(t, guest, { method: 'POST', url: `/v1.0/foyer/meetings/${meetingId}/join` })).statusCode).toBe(200);
    t.clock.advance(90_000);
    expect((await call(t, guest, { method: 'POST', url: `/v1.0/foyer/meetings/${meetingId}/leave` })).statusCode).toBe(200);
    const csv = await call(t, owner, { method: 'GET', url: `/v1.0/foyer/meetings/${meetingId}/attendance.csv` });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain('Gwen Guest,gwen@outside.test,Attendee');
    expect(csv.body).toContain(',90\r\n');
    expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/foyer/meetings/${meetingId}/attendance.csv` }), 403, 'Authorization_RequestDenied');
  });

  it('deleting the guest refuses their next request and closes their live stream; restoring brings the team back', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1.0/teams/${teamId}/channels/${generalId}/messages/stream`, {
      headers: { cookie: `${SESSION_COOKIE}=${guestCookie}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const readUntil = async (needle: string) => {
      while (!received.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) return false;
        received += decoder.decode(value);
      }
      return true;
    };
    await call(t, owner, { method: 'POST', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages`, payload: { body: { content: 'Live hello' } } });
    expect(await readUntil('Live hello')).toBe(true);
    expect(received).toContain('event: message');

    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${guestId}` })).statusCode).toBe(204);
    // The stream ends: read returns done.
    expect(await readUntil('never-sent')).toBe(false);
    expectGraphError(
      await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages` }),
      401,
      'Authentication_MissingOrMalformed',
    );
    const members = await call(t, owner, { method: 'GET', url: `/v1.0/teams/${teamId}/members` });
    expect(members.json().value.map((m: { userId: string }) => m.userId)).not.toContain(guestId);

    expect((await call(t, admin, { method: 'POST', url: `/v1.0/directory/deletedItems/${guestId}/restore` })).statusCode).toBe(200);
    const back = await call(t, owner, { method: 'GET', url: `/v1.0/teams/${teamId}/members` });
    expect(back.json().value).toContainEqual(expect.objectContaining({ userId: guestId, roles: ['guest'] }));
    const access = await call(t, admin, { method: 'GET', url: `/v1.0/foyer/users/${guestId}/access` });
    expect(access.json().value).toContainEqual(expect.objectContaining({ kind: 'team', id: teamId, source: 'Team membership', role: 'guest' }));
  });

  it('removing the guest from the team ends access at once, live stream included', async () => {
    // Deleting ended the guest's sessions; after the restore they sign in again.
    guestCookie = await signInWithCode(t, codes, browser(t, '10.9.0.2'), 'gwen@outside.test');
    guest = { session: await pageSession(t, guestCookie) };
    expect((await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages` })).statusCode).toBe(200);
    const res = await fetch(`http://127.0.0.1:${port}/v1.0/teams/${teamId}/channels/${generalId}/messages/stream`, {
      headers: { cookie: `${SESSION_COOKIE}=${guestCookie}` },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    expect((await call(t, owner, { method: 'DELETE', url: `/v1.0/teams/${teamId}/members/${guestId}` })).statusCode).toBe(204);
    for (;;) if ((await reader.read()).done) break;
    expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/teams/${teamId}/channels/${generalId}/messages` }), 404, 'Request_ResourceNotFound');
    expectGraphError(await call(t, guest, { method: 'GET', url: `/v1.0/drives/${driveId}/root/children` }), 404, 'Request_ResourceNotFound');
  });
});
