import type { Kysely, Selectable } from 'kysely';
import type { Database, MailMessagesTable } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { MailTransport } from './transport.js';
import type { JobHandler } from '../jobs/worker.js';
import { enqueueJobs } from '../jobs/jobs.repository.js';
import { insertMany } from '../db/bulk-insert.js';
import { newId } from '../ids.js';
import { recordAudit, systemActor } from '../audit/audit.service.js';

export const SEND_MAIL_JOB = 'mail.send';
export type MailRow = Selectable<MailMessagesTable>;

export interface QueuedMail {
  tenantId: string;
  kind: 'invitation' | 'one-time-code' | 'notification';
  invitationId?: string | null;
  from: string;
  to: string[];
  cc?: string[];
  replyTo?: string | null;
  subject: string;
  text: string;
  html: string;
  /** Files sent with the message (a meeting invitation's .ics); text content only. */
  attachments?: MailAttachment[];
  /** Bodies rendered from current data when the message is sent or shown, instead of `text`/`html`. */
  template?: MailTemplate;
}

/** A template the bodies of a stored message are rendered from (see `MailContent`). */
export interface MailTemplate {
  kind: 'invitation';
  /** Foyer's public URL when the message was queued, for its links. */
  baseUrl: string;
}

/** The bodies of a stored message; null when what it was about no longer exists (it is not sent). */
export type MailContent = (mail: MailRow) => Promise<{ text: string; html: string } | null>;

/** Content of messages stored with their bodies. */
export const storedContent: MailContent = async (m) => ({ text: m.text_body, html: m.html_body });

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: string;
}

/**
 * Stores a message and the job that delivers it, in the caller's transaction: the message exists
 * exactly when the change that causes it does, and is delivered after the commit.
 */
export async function queueMail(trx: Kysely<Database>, mail: QueuedMail, now: string): Promise<string> {
  const [id] = await queueMails(trx, [{ mail, runAt: now }], now);
  return id!;
}

/** Stores many messages and their delivery jobs in a few statements; each is sent at its `runAt`. */
export async function queueMails(trx: Kysely<Database>, mails: readonly { mail: QueuedMail; runAt: string }[], now: string): Promise<string[]> {
  const rows: MailMessagesTable[] = mails.map(({ mail }) => ({
    tenant_id: mail.tenantId,
    id: newId(),
    invitation_id: mail.invitationId ?? null,
    kind: mail.kind,
    from_address: mail.from,
    to_addresses: JSON.stringify(mail.to),
    cc_addresses: JSON.stringify(mail.cc ?? []),
    reply_to: mail.replyTo ?? null,
    subject: mail.subject,
    text_body: mail.text,
    html_body: mail.html,
    created_at: now,
    status: 'queued',
    attempts: 0,
    last_error: null,
    sent_at: null,
    attachments: mail.attachments?.length ? JSON.stringify(mail.attachments) : null,
    template: mail.template ? JSON.stringify(mail.template) : null,
  }));
  await insertMany(trx, 'mail_messages', rows);
  await enqueueJobs(
    trx,
    rows.map((m, i) => ({ type: SEND_MAIL_JOB, tenantId: m.tenant_id, payload: { mailId: m.id }, runAt: mails[i]!.runAt, maxAttempts: 12 })),
    now,
  );
  return rows.map((m) => m.id);
}

/** Delivers one queued message; a message already sent is not sent again. `content` renders templated bodies. */
export function mailJobHandlers(
  db: Kysely<Database>,
  transport: MailTransport,
  clock: Clock,
  content: MailContent = storedContent,
): Record<string, JobHandler> {
  return {
    [SEND_MAIL_JOB]: async (job) => {
      const { mailId } = job.payload as { mailId: string };
      const mail = await db.selectFrom('mail_messages').selectAll().where('id', '=', mailId).executeTakeFirst();
      if (!mail || mail.status === 'sent') return;
      const setDelivery = async (status: string, error: string | null) => {
        const now = clock.now().toISOString();
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('mail_messages')
            .set((eb) => ({ status, attempts: eb('attempts', '+', 1), last_error: error, sent_at: status === 'sent' ? now : null }))
            .where('id', '=', mail.id)
            .execute();
          if (!mail.invitation_id) return;
          await trx.updateTable('invitations').set({ delivery_state: status }).where('id', '=', mail.invitation_id).execute();
          // The outcome of an invitation email is part of the invitation's story in the audit log.
          if (status === 'sent' || status === 'failed') {
            const inv = await trx.selectFrom('invitations').select(['user_id', 'invited_email']).where('id', '=', mail.invitation_id).executeTakeFirst();
            if (inv)
              await recordAudit(
                trx,
                systemActor(mail.tenant_id),
                {
                  activity: status === 'sent' ? 'Invitation email sent' : 'Invitation email failed',
                  category: 'UserManagement',
                  operationType: 'Other',
                  result: status === 'sent' ? 'success' : 'failure',
                  resultReason: error ?? '',
                  targets: [{ id: inv.user_id, displayName: inv.invited_email, type: 'User' }],
                },
                `mail-${mail.id}`,
                now,
              );
          }
        });
      };
      const bodies = await content(mail);
      if (!bodies) {
        await setDelivery('failed', 'What this message was about no longer exists.');
        return;
      }
      try {
        await transport.send({
          id: mail.id,
          from: mail.from_address,
          to: JSON.parse(mail.to_addresses),
          cc: JSON.parse(mail.cc_addresses),
          replyTo: mail.reply_to,
          subject: mail.subject,
          text: bodies.text,
          html: bodies.html,
          attachments: mail.attachments ? (JSON.parse(mail.attachments) as MailAttachment[]) : undefined,
        });
      } catch (error) {
        await setDelivery(job.lastAttempt ? 'failed' : 'retrying', String((error as Error).message ?? error).slice(0, 1000));
        throw error;
      }
      await setDelivery('sent', null);
    },
  };
}

/** The outbox as the API shows it, with the bodies from `content`. */
export async function toOutboxMessage(m: MailRow, content: MailContent = storedContent) {
  const bodies = (await content(m)) ?? { text: '', html: '' };
  return {
    id: m.id,
    to: JSON.parse(m.to_addresses) as string[],
    cc: JSON.parse(m.cc_addresses) as string[],
    replyTo: m.reply_to,
    subject: m.subject,
    text: bodies.text,
    html: bodies.html,
    createdDateTime: m.created_at,
    status: m.status,
    attachments: m.attachments ? (JSON.parse(m.attachments) as MailAttachment[]) : [],
  };
}
