import { html } from './html.js';

export type Language = 'en' | 'nl';

/** 'nl', 'nl-NL', 'nl-BE' → nl; anything else → en. */
export function pickLanguage(...candidates: (string | null | undefined)[]): Language {
  for (const c of candidates) {
    if (!c) continue;
    const base = c.toLowerCase().split(/[-_]/)[0];
    if (base === 'nl') return 'nl';
    if (base === 'en') return 'en';
  }
  return 'en';
}

const strings = {
  en: {
    inviteSubject: (inviter: string) => `${inviter} invited you to access applications within their organization`,
    inviteIntro: (inviter: string, org: string) => `${inviter} invited you to access applications within ${org}.`,
    inviteDefaultMessage: 'You have been invited as a guest. Accept the invitation to get started.',
    messageFrom: (inviter: string) => `Message from ${inviter}:`,
    accept: 'Accept invitation',
    orgLabel: 'Organization',
    acceptHint: 'Accepting lets this organization see your name and email address.',
    block: 'Block future invitations from this organization',
    notExpected: "If you weren't expecting this invitation, you can ignore it or block future invitations:",
    codeSubject: (org: string) => `Your ${org} verification code`,
    codeIntro: (org: string) => `Use this code to sign in to ${org}:`,
    codeValid: 'The code is valid for 30 minutes. If you did not ask for it, you can ignore this email.',
  },
  nl: {
    inviteSubject: (inviter: string) => `${inviter} heeft je uitgenodigd voor toegang tot toepassingen binnen hun organisatie`,
    inviteIntro: (inviter: string, org: string) => `${inviter} heeft je uitgenodigd voor toegang tot toepassingen binnen ${org}.`,
    inviteDefaultMessage: 'Je bent uitgenodigd als gast. Accepteer de uitnodiging om te beginnen.',
    messageFrom: (inviter: string) => `Bericht van ${inviter}:`,
    accept: 'Uitnodiging accepteren',
    orgLabel: 'Organisatie',
    acceptHint: 'Als je accepteert, ziet deze organisatie je naam en e-mailadres.',
    block: 'Toekomstige uitnodigingen van deze organisatie blokkeren',
    notExpected: 'Verwachtte je deze uitnodiging niet? Negeer haar of blokkeer toekomstige uitnodigingen:',
    codeSubject: (org: string) => `Je verificatiecode voor ${org}`,
    codeIntro: (org: string) => `Gebruik deze code om je aan te melden bij ${org}:`,
    codeValid: 'De code is 30 minuten geldig. Heb je er niet om gevraagd, dan kun je deze e-mail negeren.',
  },
} as const;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const layout = (lang: Language, body: ReturnType<typeof html>) =>
  html`<!doctype html>
    <html lang="${lang}">
      <body style="margin:0;background:#f5f5f5;font-family:'Segoe UI',Arial,sans-serif;color:#242424">
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0">
          <tr>
            <td align="center" style="padding:24px">
              <table role="presentation" width="560" cellpadding="0" cellspacing="0" style="background:#fff;border-radius:8px;padding:32px">
                ${body}
              </table>
            </td>
          </tr>
        </table>
      </body>
    </html>`.value;

/** The invitation email's subject (stored when it is queued; its bodies are rendered when it is sent). */
export const invitationSubject = (lang: Language, inviterName: string): string => strings[lang].inviteSubject(inviterName);

/** The invitation email: custom message as plain text (escaped in HTML), an Accept button, and a block link. */
export function invitationMail(args: {
  lang: Language;
  inviterName: string;
  orgName: string;
  customMessage: string | null;
  redeemUrl: string;
  blockUrl: string;
}): RenderedMail {
  const s = strings[args.lang];
  const message = args.customMessage?.trim() || null;
  const text = [
    s.inviteIntro(args.inviterName, args.orgName),
    '',
    ...(message ? [s.messageFrom(args.inviterName), message, ''] : [s.inviteDefaultMessage, '']),
    `${s.accept}: ${args.redeemUrl}`,
    '',
    s.acceptHint,
    `${s.orgLabel}: ${args.orgName}`,
    '',
    s.notExpected,
    args.blockUrl,
  ].join('\n');
  const body = html`<tr>
    <td>
      <h1 style="font-size:20px;margin:0 0 16px">${s.inviteIntro(args.inviterName, args.orgName)}</h1>
      ${
        message
          ? html`<p style="margin:0 0 4px;font-weight:600">${s.messageFrom(args.inviterName)}</p>
              <p style="margin:0 0 16px;white-space:pre-wrap;border-left:3px solid #0f6cbd;padding-left:12px">${message}</p>`
          : html`<p>${s.inviteDefaultMessage}</p>`
      }
      <p style="margin:24px 0">
        <a href="${args.redeemUrl}" style="background:#0f6cbd;color:#fff;text-decoration:none;padding:10px 20px;border-radius:4px;display:inline-block"
          >${s.accept}</a
        >
      </p>
      <p style="font-size:13px;color:#616161">${s.acceptHint}<br />${s.orgLabel}: ${args.orgName}</p>
      <p style="font-size:12px;color:#616161">${s.notExpected} <a href="${args.blockUrl}">${s.block}</a></p>
    </td>
  </tr>`;
  return { subject: s.inviteSubject(args.inviterName), text, html: layout(args.lang, body) };
}

/** The one-time passcode email. */
export function oneTimeCodeMail(args: { lang: Language; orgName: string; code: string }): RenderedMail {
  const s = strings[args.lang];
  const text = [s.codeIntro(args.orgName), '', args.code, '', s.codeValid].join('\n');
  const body = html`<tr>
    <td>
      <p>${s.codeIntro(args.orgName)}</p>
      <p style="font-size:28px;letter-spacing:4px;font-weight:600">${args.code}</p>
      <p style="font-size:13px;color:#616161">${s.codeValid}</p>
    </td>
  </tr>`;
  return { subject: s.codeSubject(args.orgName), text, html: layout(args.lang, body) };
}
