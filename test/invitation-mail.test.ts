import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createTestApp, outboxFor, runJobs, type Caller, type TestApp } from './helpers/test-app.js';

// Invitation emails are stored without their bodies and rendered when sent or shown.
describe('invitation emails rendered on delivery', () => {
  let t: TestApp;
  let admin: Caller;
  const invite = async (email: string) =>
    (
      await call(t, admin, {
        method: 'POST',
        url: '/v1.0/foyer/invitations',
        payload: {
          invitedUserEmailAddress: email,
          inviteRedirectUrl: 'https://apps.contoso.test',
          sendInvitationMessage: true,
          invitedUserMessageInfo: { customizedMessageBody: 'Hello <b>there</b>' },
        },
      })
    ).json() as { id: string; inviteRedeemUrl: string; invitedUser: { id: string } };

  beforeAll(async () => {
    t = await createTestApp();
    admin = { token: await t.clientToken(['User.Invite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All']) };
  });
  afterAll(() => t.close());

  it('stores no bodies, and the outbox and the delivered email carry the current link and the escaped message', async () => {
    const inv = await invite('render@mail.test');
    const stored = await t.database.db
      .selectFrom('mail_messages')
      .select(['text_body', 'html_body', 'template'])
      .where('invitation_id', '=', inv.id)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ text_body: '', html_body: '' });
    expect(JSON.parse(stored.template!)).toEqual({ kind: 'invitation', baseUrl: 'http://foyer.test' });
    const [first] = await outboxFor(t, 'render@mail.test');
    expect(first!.text).toContain(inv.inviteRedeemUrl);
    expect(first!.html).toContain('Hello &#60;b&#62;there&#60;&#47;b&#62;');
    expect(first!.html).not.toContain('<b>');
    // A resend issues the next link; the old one stops working.
    const resent = (await call(t, admin, { method: 'POST', url: `/v1.0/foyer/invitations/${inv.id}/resend` })).json() as { inviteRedeemUrl: string };
    expect(resent.inviteRedeemUrl).not.toBe(inv.inviteRedeemUrl);
    await runJobs(t);
    const mails = await outboxFor(t, 'render@mail.test');
    expect(mails).toHaveLength(2);
    expect(mails.every((m) => m.status === 'sent' && m.text.includes(resent.inviteRedeemUrl))).toBe(true);
    const old = await t.app.inject({ method: 'GET', url: new URL(inv.inviteRedeemUrl).pathname + new URL(inv.inviteRedeemUrl).search });
    const current = await t.app.inject({ method: 'GET', url: new URL(resent.inviteRedeemUrl).pathname + new URL(resent.inviteRedeemUrl).search });
    expect(current.statusCode).toBe(200);
    expect(old.body).not.toBe(current.body);
  });

  it('a queued email of a guest deleted for good is not sent', async () => {
    const inv = await invite('gone@mail.test');
    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/users/${inv.invitedUser.id}` })).statusCode).toBe(204);
    expect((await call(t, admin, { method: 'DELETE', url: `/v1.0/directory/deletedItems/${inv.invitedUser.id}` })).statusCode).toBe(204);
    await runJobs(t);
    const [mail] = await outboxFor(t, 'gone@mail.test');
    expect(mail!.status).toBe('failed');
    expect(mail!.text).toBe('');
  });
});
