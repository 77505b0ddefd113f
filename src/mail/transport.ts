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
      await transporter.sendMail({
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
    },
    close: () => transporter.close(),
  };
}
