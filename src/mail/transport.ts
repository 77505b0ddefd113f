import nodemailer from 'nodemailer';

export interface OutgoingMail {
  id: string;
  from: string;
  to: string[];
  cc: string[];
  replyTo: string | null;
  subject: string;
  text: string;
  html: string;
  attachments?: { filename: string; content: string; contentType: string }[];
}

/** Where queued mail goes: an SMTP server, or nowhere beyond the outbox table (which already holds it). */
export interface MailTransport {
  kind: 'smtp' | 'outbox';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function createMailTransport(smtpUrl: string | null): MailTransport {
  if (!smtpUrl) return { kind: 'outbox', send: async () => {}, close: () => {} };
  const transporter = nodemailer.createTransport(smtpUrl);
  return {
    kind: 'smtp',
    async send(mail) {
      const info = await transporter.sendMail({
        from: mail.from,
        to: mail.to,
        cc: mail.cc.length ? mail.cc : undefined,
        replyTo: mail.replyTo ?? undefined,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        attachments: mail.attachments,
        // A stable Message-ID lets receiving servers drop the duplicate of a retried delivery.
        messageId: `<${mail.id}@foyer.mail>`,
      });
      // nodemailer resolves when the server takes the message for some recipients and refuses
      // others (the invitee 451, the cc 250): a To recipient without the message is a failed
      // delivery, to retry. A refused cc alone is not, or every retry would copy the others again.
      const refused = new Set(info.rejected.map((r) => r.toLowerCase()));
      const missed = mail.to.filter((a) => refused.has(a.toLowerCase()));
      if (missed.length) {
        throw new Error(`Recipient refused (${missed.join(', ')}): ${(info.rejectedErrors ?? []).map((e) => e.response).join('; ')}`);
      }
    },
    close: () => transporter.close(),
  };
}
