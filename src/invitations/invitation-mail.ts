import type { Kysely } from 'kysely';
import type { Database, InvitationsTable, UsersTable } from '../db/schema.js';
import type { MailContent, MailRow, QueuedMail } from '../mail/mail-queue.js';
import { storedContent } from '../mail/mail-queue.js';
import { deriveKey, hmac, safeEqual } from '../auth/secrets.js';
import { isGuid } from '../ids.js';
import { invitationMail, invitationSubject, pickLanguage } from '../mail/templates.js';
import { findTenant } from '../tenancy/tenants.service.js';

export const redeemLink = (baseUrl: string, token: string) => `${baseUrl}/redeem?t=${token}`;
const blockLink = (baseUrl: string, token: string) => `${baseUrl}/redeem/block?t=${token}`;

/**
 * The link token of an invitation's `sendCount`-th link (each resend issues the next one). It is
 * derived from the invitation id with a key derived from FOYER_SECRET, so an email can be
 * rendered when it is sent and a bulk invitation's results can show the link later, while only
 * the token's hash is stored, as for every other link.
 */
export function invitationToken(secret: string, invitationId: string, sendCount: number): string {
  return hmac(deriveKey(secret, 'invitation-token'), `${invitationId}.${sendCount}`);
}

/**
 * The token of the "block future invitations" link of an invitation's `sendCount`-th email. Its
 * key has a purpose of its own, so it cannot be derived from the redeem link, which the inviter is
 * given; it is sent only in the email. It names its invitation, so nothing of it is stored.
 */
export function blockToken(secret: string, invitationId: string, sendCount: number): string {
  return `${invitationId}.${hmac(deriveKey(secret, 'invitation-block-token'), `${invitationId}.${sendCount}`)}`;
}

/** The invitation a block token names, or null when it has not a block token's form. */
export function invitationOfBlockToken(token: string): string | null {
  const dot = token.indexOf('.');
  const id = dot > 0 ? token.slice(0, dot) : '';
  return isGuid(id) ? id.toLowerCase() : null;
}

/** Whether `token` is the block token of the invitation's current email. */
export const isBlockTokenOf = (secret: string, token: string, invitation: { id: string; send_count: number }): boolean =>
  safeEqual(token, blockToken(secret, invitation.id, invitation.send_count));

type Invitation = Pick<
  InvitationsTable,
  'tenant_id' | 'id' | 'invited_email' | 'inviter_display_name' | 'inviter_email' | 'message_body' | 'message_language' | 'cc_recipients'
>;

/**
 * The invitation email for `invitation`, queued without its bodies: they are rendered when it is
 * sent or shown (`invitationMailContent`), in the invitation's or the guest's language.
 */
export function invitationMessage(args: {
  baseUrl: string;
  invitation: Invitation;
  user: Pick<UsersTable, 'preferred_language'>;
  mailFrom: string;
}): QueuedMail {
  const inv = args.invitation;
  return {
    tenantId: inv.tenant_id,
    kind: 'invitation',
    invitationId: inv.id,
    from: args.mailFrom,
    to: [inv.invited_email],
    cc: (JSON.parse(inv.cc_recipients) as { address: string }[]).map((c) => c.address),
    replyTo: inv.inviter_email,
    subject: invitationSubject(pickLanguage(inv.message_language, args.user.preferred_language), inv.inviter_display_name),
    text: '',
    html: '',
    template: { kind: 'invitation', baseUrl: args.baseUrl },
  };
}

/**
 * Renders stored messages: invitation emails from their invitation as it is now (the current
 * link), other messages as they were stored. An invitation that no longer exists has no email.
 */
export function invitationMailContent(db: Kysely<Database>, secret: string): MailContent {
  return async (mail: MailRow) => {
    if (!mail.template || !mail.invitation_id) return storedContent(mail);
    const { baseUrl } = JSON.parse(mail.template) as { baseUrl: string };
    const row = await db
      .selectFrom('invitations as i')
      .innerJoin('users as u', 'u.id', 'i.user_id')
      .select(['i.id', 'i.send_count', 'i.inviter_display_name', 'i.message_body', 'i.message_language', 'u.preferred_language'])
      .where('i.id', '=', mail.invitation_id)
      .executeTakeFirst();
    if (!row) return null;
    const tenant = (await findTenant(db, mail.tenant_id))!;
    const { text, html } = invitationMail({
      lang: pickLanguage(row.message_language, row.preferred_language),
      inviterName: row.inviter_display_name,
      orgName: tenant.displayName,
      customMessage: row.message_body,
      redeemUrl: redeemLink(baseUrl, invitationToken(secret, row.id, row.send_count)),
      blockUrl: blockLink(baseUrl, blockToken(secret, row.id, row.send_count)),
    });
    return { text, html };
  };
}
