import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RedemptionService, LinkLookup, LinkProblem } from './redemption.service.js';
import type { AuthService } from '../auth/auth.service.js';
import { SESSION_COOKIE, SESSION_LIFETIME_MS } from '../auth/auth.service.js';
import { hashToken, safeEqual } from '../auth/secrets.js';
import { GraphError } from '../graph/errors.js';
import { html, type SafeHtml } from '../mail/html.js';
import type { Language } from '../mail/templates.js';
import { CsrfForm, pageLanguage, pageRoute, renderPage } from '../web/page.js';
import { formField } from '../http/validation.js';
import { Type } from '@sinclair/typebox';
import { codeErrorText, pageStrings } from '../web/strings.js';
import { findTenant } from '../tenancy/tenants.service.js';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Actor } from '../auth/permissions.js';
import type { AccessEntry } from '../collaboration/my-access.service.js';
import { collaborationStrings } from '../collaboration/pages.strings.js';

type Form = Record<string, string | undefined>;
const token = formField(1024);
const email = formField(320);
const code = formField(64);
/** The redeem link's token, in the query (links) or in the form (the pages' buttons). */
const TokenFields = Type.Object({ t: Type.Optional(token) });
const withToken = pageRoute({ body: TokenFields });
const RedeemCodeForm = Type.Object({ t: Type.Optional(token), code: Type.Optional(code) });
const EmailForm = Type.Object({ email: Type.Optional(email) });
const SignInCodeForm = Type.Object({ email: Type.Optional(email), code: Type.Optional(code) });

/**
 * The guest's pages: redeem (invitation → consent → code → redirect), code sign-in, block
 * invitations, My access and leaving. Server-rendered, no scripts, every value escaped.
 */
export function registerRedemptionRoutes(
  app: FastifyInstance,
  deps: {
    redemption: RedemptionService;
    auth: AuthService;
    db: Kysely<Database>;
    tenantId: string;
    secureCookies: boolean;
    /** Applications the person may open (My apps), listed on My access. */
    myApps?: (actor: Actor) => Promise<{ id: string; displayName: string; homePageUrl: string | null }[]>;
    /** Teams, sites and shared files the person can reach, listed on My access. */
    myCollaboration?: (actor: Actor) => Promise<AccessEntry[]>;
  },
): void {
  const { redemption, auth } = deps;

  const langOf = (req: FastifyRequest, explicit?: string | null): Language =>
    pageLanguage((req.query as Form)?.lang ?? explicit, req.headers['accept-language']);
  const send = (reply: FastifyReply, lang: Language, title: string, body: SafeHtml, status = 200) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
      .send(renderPage(lang, title, body));
  const setSession = (reply: FastifyReply, token: string) =>
    reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, maxAge: SESSION_LIFETIME_MS / 1000 });

  async function orgName(): Promise<string> {
    return (await findTenant(deps.db, deps.tenantId))!.displayName;
  }

  function problemPage(reply: FastifyReply, lang: Language, problem: LinkProblem, org: string) {
    const s = pageStrings[lang];
    const text = { unknown: s.linkUnknown, revoked: s.linkRevoked, expired: s.linkExpired, used: s.linkUsed, domainBlocked: s.domainBlocked(org) }[problem];
    const signIn = problem === 'used' ? html`<p><a href="/signin">${s.signInLink}</a></p>` : html``;
    return send(
      reply,
      lang,
      s.linkInvalidTitle,
      html`<h1>${s.linkInvalidTitle}</h1>
        <p>${text}</p>
        ${signIn}`,
      problem === 'unknown' ? 404 : 410,
    );
  }

  function codePage(
    reply: FastifyReply,
    lang: Language,
    opts: { action: string; hidden: Record<string, string>; resendAction: string; email: string; error?: string },
    status = 200,
  ) {
    const s = pageStrings[lang];
    const hidden = Object.entries(opts.hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`);
    return send(
      reply,
      lang,
      s.codeTitle,
      html`<h1>${s.codeTitle}</h1>
        <p>${s.codeSent(opts.email)}</p>
        ${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : html``}
        <form method="post" action="${opts.action}">
          ${hidden}
          <label for="code">${s.codeLabel}</label>
          <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="12" autofocus />
          <button class="primary" type="submit">${s.verify}</button>
        </form>
        <form method="post" action="${opts.resendAction}">${hidden}<button type="submit">${s.newCode}</button></form>`,
      status,
    );
  }

  const codeError = codeErrorText;

  /** Rate-limited code requests answer the same page with the wait, not a JSON error. */
  async function throttled<T>(lang: Language, reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof GraphError && error.status === 429) {
        const seconds = Number(error.headers['retry-after'] ?? 60);
        reply.header('retry-after', String(seconds));
        return send(
          reply,
          lang,
          pageStrings[lang].codeTitle,
          html`<h1>${pageStrings[lang].codeTitle}</h1>
            <p class="error" role="alert">${pageStrings[lang].throttled(seconds)}</p>`,
          429,
        );
      }
      throw error;
    }
  }

  async function withLink(
    req: FastifyRequest,
    reply: FastifyReply,
    token: string | undefined,
    then: (found: Extract<LinkLookup, { ok: true }>, lang: Language) => Promise<unknown>,
    lookup: (token: string | undefined) => Promise<LinkLookup> = redemption.lookup,
  ) {
    const found = await lookup(token);
    if (!found.ok) {
      const lang = langOf(req);
      return problemPage(reply, lang, found.problem, found.tenant?.displayName ?? (await orgName()));
    }
    return then(found, langOf(req, found.invitation.message_language));
  }

  const redeemCodePage = (reply: FastifyReply, lang: Language, found: Extract<LinkLookup, { ok: true }>, token: string, error?: string, status?: number) =>
    codePage(
      reply,
      lang,
      { action: '/redeem/verify', resendAction: '/redeem/code', hidden: { t: token }, email: found.invitation.invited_email, error },
      status,
    );

  app.get('/redeem', pageRoute({ querystring: TokenFields }), (req, reply) => {
    const token = (req.query as Form).t;
    return withLink(req, reply, token, async (found, lang) => {
      const s = pageStrings[lang];
      const org = found.tenant.displayName;
      if (found.user.consented_at) {
        // Consent is asked once; a re-invited guest goes straight to the code. A GET sends no
        // mail (link scanners open links), so the guest asks for the code with a button.
        return send(
          reply,
          lang,
          s.invitedTitle,
          html`<h1>${s.invitedTitle}</h1>
            <p>${s.invitedBy(found.invitation.inviter_display_name, org)}</p>
            <form method="post" action="/redeem/code">
              <input type="hidden" name="t" value="${token!}" />
              <p>${s.codeWillBeSent(found.invitation.invited_email)}</p>
              <button class="primary" type="submit">${s.sendCode}</button>
            </form>`,
        );
      }
      return send(
        reply,
        lang,
        s.invitedTitle,
        html`<h1>${s.invitedTitle}</h1>
          <p>${s.invitedBy(found.invitation.inviter_display_name, org)}</p>
          <section class="permissions" aria-labelledby="perm">
            <h2 id="perm" style="font-size:16px;margin:0 0 8px">${s.reviewPermissions}</h2>
            <p style="margin:0">${s.permissionsIntro(org)}</p>
            <ul>
              <li>${s.permissionName}</li>
              <li>${s.permissionEmail}</li>
            </ul>
            <p class="muted">${s.permissionsNote}</p>
          </section>
          <form method="post" action="/redeem/accept" style="display:inline">
            <input type="hidden" name="t" value="${token!}" /><button class="primary" type="submit">${s.accept}</button>
          </form>
          <form method="post" action="/redeem/decline" style="display:inline">
            <input type="hidden" name="t" value="${token!}" /><button type="submit">${s.decline}</button>
          </form>`,
      );
    });
  });

  app.post('/redeem/accept', withToken, (req, reply) => {
    const token = (req.body as Form).t;
    return withLink(req, reply, token, (found, lang) =>
      throttled(lang, reply, async () => {
        await redemption.consentAndSendCode(found, req.ip, lang);
        return redeemCodePage(reply, lang, found, token!);
      }),
    );
  });

  app.post('/redeem/code', withToken, (req, reply) => {
    const token = (req.body as Form).t;
    return withLink(req, reply, token, (found, lang) =>
      throttled(lang, reply, async () => {
        await redemption.sendRedeemCode(found, req.ip, lang);
        return redeemCodePage(reply, lang, found, token!);
      }),
    );
  });

  app.post('/redeem/verify', pageRoute({ body: RedeemCodeForm }), (req, reply) => {
    const { t: token, code = '' } = req.body as Form;
    return withLink(req, reply, token, async (found, lang) => {
      if (!found.user.consented_at) return reply.redirect(`/redeem?t=${encodeURIComponent(token!)}`, 303);
      const result = await redemption.redeem(found, code);
      if (!result.ok) return redeemCodePage(reply, lang, found, token!, codeError(lang, result), 400);
      setSession(reply, result.sessionToken!);
      return reply.redirect(result.redirectUrl!, 303);
    });
  });

  app.post('/redeem/decline', withToken, (req, reply) =>
    withLink(req, reply, (req.body as Form).t, async (found, lang) => {
      const s = pageStrings[lang];
      return send(
        reply,
        lang,
        s.declinedTitle,
        html`<h1>${s.declinedTitle}</h1>
          <p>${s.declinedText(found.tenant.displayName)}</p>`,
      );
    }),
  );

  // The block link carries a token of its own (only the email has it), never the redeem link's.
  app.get('/redeem/block', pageRoute({ querystring: TokenFields }), (req, reply) => {
    const token = (req.query as Form).t;
    return withLink(
      req,
      reply,
      token,
      async (found, lang) => {
        const s = pageStrings[lang];
        return send(
          reply,
          lang,
          s.blockTitle,
          html`<h1>${s.blockTitle}</h1>
            <p>${s.blockQuestion(found.tenant.displayName, found.invitation.invited_email)}</p>
            <form method="post" action="/redeem/block">
              <input type="hidden" name="t" value="${token!}" /><button class="primary" type="submit">${s.block}</button>
            </form>`,
        );
      },
      redemption.lookupBlock,
    );
  });

  app.post('/redeem/block', withToken, (req, reply) =>
    withLink(
      req,
      reply,
      (req.body as Form).t,
      async (found, lang) => {
        await redemption.block(found);
        const s = pageStrings[lang];
        return send(
          reply,
          lang,
          s.blockTitle,
          html`<h1>${s.blockTitle}</h1>
            <p>${s.blockedText(found.tenant.displayName)}</p>`,
        );
      },
      redemption.lookupBlock,
    ),
  );

  const signInPage = async (req: FastifyRequest, reply: FastifyReply, error?: string) => {
    const lang = langOf(req);
    const s = pageStrings[lang];
    return send(
      reply,
      lang,
      s.signInTitle,
      html`<h1>${s.signInTitle}</h1>
        <p>${s.signInIntro(await orgName())}</p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : html``}
        <form method="post" action="/signin">
          <label for="email">${s.emailLabel}</label
          ><input id="email" name="email" type="email" autocomplete="email" required maxlength="320" autofocus /><button class="primary" type="submit">
            ${s.sendCode}
          </button>
        </form>`,
    );
  };

  app.get('/signin', pageRoute(), (req, reply) => signInPage(req, reply));

  app.post('/signin', pageRoute({ body: EmailForm }), async (req, reply) => {
    const email = ((req.body as Form).email ?? '').trim();
    const lang = langOf(req);
    if (!email.includes('@')) return signInPage(req, reply);
    return throttled(lang, reply, async () => {
      // The same answer whether or not the address is a guest here.
      await redemption.sendSignInCode(deps.tenantId, email, req.ip, lang);
      return codePage(reply, lang, { action: '/signin/verify', resendAction: '/signin', hidden: { email }, email });
    });
  });

  app.post('/signin/verify', pageRoute({ body: SignInCodeForm }), async (req, reply) => {
    const { email = '', code = '' } = req.body as Form;
    const lang = langOf(req);
    const result = await redemption.signInWithCode(deps.tenantId, email, code);
    if (!result.ok)
      return codePage(reply, lang, { action: '/signin/verify', resendAction: '/signin', hidden: { email }, email, error: codeError(lang, result) }, 400);
    setSession(reply, result.sessionToken!);
    return reply.redirect('/my', 303);
  });

  /** The signed-in person of a page request, or null (pages redirect to sign-in instead of a JSON 401). */
  async function pageActor(req: FastifyRequest) {
    const cookie = req.cookies[SESSION_COOKIE];
    const actor = cookie ? await auth.actorFromSession(cookie) : null;
    return actor?.kind === 'user' ? { actor, cookie: cookie! } : null;
  }

  const csrfOk = (cookie: string, sent: string | undefined) => typeof sent === 'string' && safeEqual(sent, auth.csrfTokenFor(cookie));

  app.get('/my', pageRoute(), async (req, reply) => {
    const who = await pageActor(req);
    if (!who) return reply.redirect('/signin', 303);
    const lang = langOf(req);
    const s = pageStrings[lang];
    const { tenant, user, groups } = await redemption.myAccess(who.actor);
    const apps = (await deps.myApps?.(who.actor)) ?? [];
    const reach = (await deps.myCollaboration?.(who.actor)) ?? [];
    const cs = collaborationStrings[lang];
    const suffix = lang === 'nl' ? '?lang=nl' : '';
    const entry = (e: AccessEntry) =>
      html`<li>
        <a href="${e.href}${e.href.includes('?') ? suffix.replace('?', '&') : suffix}">${e.displayName}</a>
        <span class="muted">(${e.source}${e.expirationDateTime ? `, ${cs.expires(e.expirationDateTime.slice(0, 10))}` : ''})</span>
      </li>`;
    const csrf = auth.csrfTokenFor(who.cookie);
    const guest = who.actor.userType === 'Guest';
    return send(
      reply,
      lang,
      s.myAccessTitle,
      html`<h1>${s.myAccessTitle}</h1>
        <p>${guest ? s.myAccessIntro(tenant.displayName) : tenant.displayName}</p>
        <p class="muted">${s.signedInAs(user.display_name, user.mail ?? user.user_principal_name)}</p>
        <h2 style="font-size:16px">${s.myGroups}</h2>
        ${
          groups.length
            ? html`<ul>
                ${groups.map((g) => html`<li>${g.display_name}</li>`)}
              </ul>`
            : html`<p class="muted">${s.noGroups}</p>`
        }
        <h2 style="font-size:16px">${cs.myTeams}</h2>
        ${
          reach.some((e) => e.kind === 'team')
            ? html`<ul id="my-teams">
                ${reach.filter((e) => e.kind === 'team').map(entry)}
              </ul>`
            : html`<p class="muted">${cs.noTeams}</p>`
        }
        <h2 style="font-size:16px">${cs.mySites}</h2>
        ${
          reach.some((e) => e.kind !== 'team')
            ? html`<ul id="my-sites">
                ${reach.filter((e) => e.kind !== 'team').map(entry)}
              </ul>`
            : html`<p class="muted">${cs.noSites}</p>`
        }
        <h2 style="font-size:16px">${s.myApps}</h2>
        ${
          apps.length
            ? html`<ul>
                ${apps.map((a) => (a.homePageUrl ? html`<li><a href="${a.homePageUrl}" rel="noopener">${a.displayName}</a></li>` : html`<li>${a.displayName}</li>`))}
              </ul>`
            : html`<p class="muted">${s.noApps}</p>`
        }
        ${
          guest
            ? html`<form method="post" action="/my/leave">
                <input type="hidden" name="csrf" value="${csrf}" />
                <p class="muted">${s.leaveNote(tenant.displayName)}</p>
                <button type="submit">${s.leave}</button>
              </form>`
            : html``
        }
        <form method="post" action="/signout"><input type="hidden" name="csrf" value="${csrf}" /><button type="submit">${s.signOut}</button></form>`,
    );
  });

  app.post('/my/leave', pageRoute({ body: CsrfForm }), async (req, reply) => {
    const who = await pageActor(req);
    if (!who) return reply.redirect('/signin', 303);
    if (!csrfOk(who.cookie, (req.body as Form).csrf)) return reply.redirect('/my', 303);
    const lang = langOf(req);
    const s = pageStrings[lang];
    const org = await orgName();
    await redemption.leave(who.actor);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return send(
      reply,
      lang,
      s.leftTitle,
      html`<h1>${s.leftTitle}</h1>
        <p>${s.leftText(org)}</p>`,
    );
  });

  app.post('/signout', pageRoute({ body: CsrfForm }), async (req, reply) => {
    const who = await pageActor(req);
    if (who && csrfOk(who.cookie, (req.body as Form).csrf)) {
      await auth.signOut(hashToken(who.cookie));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
    }
    return reply.redirect('/signin', 303);
  });
}
