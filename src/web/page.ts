import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { html, type SafeHtml } from '../mail/html.js';
import type { Language } from '../mail/templates.js';
import { formatValidationErrors, formField } from '../http/validation.js';
import { pageStrings } from './strings.js';

/** The form of a signed-in page's buttons: the session's CSRF token. */
export const CsrfForm = Type.Object({ csrf: Type.Optional(formField(200)) });

/**
 * Route options of a server-rendered page anyone may open (it finds its own session, if any): left
 * out of the API description, errors answered as a page, and the schemas its form and query must
 * meet, so a repeated or odd field is a 400 before the page's code reads it.
 */
export function pageRoute(schemas: { body?: TSchema; querystring?: TSchema } = {}) {
  return { config: { anonymous: true, page: true }, schema: { hide: true, ...schemas }, schemaErrorFormatter: formatValidationErrors };
}

/** Language of a server-rendered page: an explicit choice, else the browser's Accept-Language (a repeated or odd `?lang=` counts as none). */
export function pageLanguage(explicit: unknown, acceptLanguage: string | undefined): Language {
  const first = typeof explicit === 'string' ? explicit : acceptLanguage?.split(',')[0]?.trim();
  return first?.toLowerCase().startsWith('nl') ? 'nl' : 'en';
}

/**
 * A complete, self-contained page (no scripts; inline styles only) around escaped content, with the
 * admin center's header bar. Referrer policy same-origin: no other site sees a page's URL (a redeem
 * link's token), while the page's own form posts carry its Origin, which the origin check needs
 * (under no-referrer browsers send `Origin: null`).
 */
export function renderPage(lang: Language, title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="${lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>${title}</title>
        <style>
          body {
            margin: 0;
            background: #f5f5f5;
            font-family:
              'Segoe UI',
              system-ui,
              -apple-system,
              sans-serif;
            color: #242424;
          }
          header {
            background: #0f6cbd;
            color: #fff;
            height: 48px;
            display: flex;
            align-items: center;
            padding: 0 16px;
            font-weight: 600;
            font-size: 16px;
          }
          main {
            max-width: 440px;
            margin: 48px auto;
            background: #fff;
            border-radius: 8px;
            padding: 32px;
            box-shadow: 0 2px 8px rgba(0, 0, 0, 0.12);
          }
          h1 {
            font-size: 22px;
            margin: 0 0 16px;
          }
          p {
            line-height: 1.5;
          }
          .muted {
            color: #616161;
            font-size: 14px;
          }
          .error {
            color: #b10e1c;
            background: #fdf3f4;
            border-left: 3px solid #b10e1c;
            padding: 8px 12px;
          }
          label {
            display: block;
            font-weight: 600;
            margin: 16px 0 4px;
          }
          input[type='email'],
          input[type='text'] {
            width: 100%;
            box-sizing: border-box;
            padding: 8px;
            font-size: 16px;
            border: 1px solid #8a8886;
            border-radius: 4px;
          }
          button {
            font: inherit;
            padding: 8px 20px;
            border-radius: 4px;
            border: 1px solid #8a8886;
            background: #fff;
            cursor: pointer;
            margin: 16px 8px 0 0;
          }
          button.primary {
            background: #0f6cbd;
            border-color: #0f6cbd;
            color: #fff;
          }
          button:focus-visible,
          input:focus-visible,
          a:focus-visible {
            outline: 2px solid #000;
            outline-offset: 2px;
          }
          ul {
            padding-left: 20px;
          }
          .permissions {
            border: 1px solid #e0e0e0;
            border-radius: 4px;
            padding: 12px 16px;
            margin: 16px 0;
          }
        </style>
      </head>
      <body>
        <header>Foyer</header>
        <main>${body}</main>
      </body>
    </html>`.value;
}

/**
 * An error as a page, for the server-rendered pages a browser posts to: what went wrong in the
 * reader's language, and the API's message with the request id for support.
 */
export function sendErrorPage(request: FastifyRequest, reply: FastifyReply, status: number, detail: string) {
  const lang = pageLanguage((request.query as Record<string, unknown> | undefined)?.lang, request.headers['accept-language']);
  const s = pageStrings[lang];
  const [title, text] =
    status === 403
      ? [s.formRefusedTitle, s.formRefusedText]
      : status === 404
        ? [s.notFoundTitle, s.notFoundText]
        : status === 429
          ? [s.failedTitle, s.throttled(Number(reply.getHeader('retry-after') ?? 60))]
          : status < 500
            ? [s.badFormTitle, s.badFormText]
            : [s.failedTitle, s.failedText];
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .send(
      renderPage(
        lang,
        title,
        html`<h1>${title}</h1>
          <p>${text}</p>
          <p class="muted">${s.errorDetails(request.id)} ${detail}</p>`,
      ),
    );
}
