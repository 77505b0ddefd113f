import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { AuthService } from '../auth/auth.service.js';
import { SESSION_COOKIE, SESSION_LIFETIME_MS, SignInLocked } from '../auth/auth.service.js';
import type { RedemptionService } from '../invitations/redemption.service.js';
import { GraphError } from '../graph/errors.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { html, type SafeHtml } from '../mail/html.js';
import type { Language } from '../mail/templates.js';
import { pageLanguage, pageRoute, renderPage } from '../web/page.js';
import { formField } from '../http/validation.js';
import { Type } from '@sinclair/typebox';
import { codeErrorText, pageStrings } from '../web/strings.js';
import { findTenant } from '../tenancy/tenants.service.js';
import { OIDC_PREFIX, oidcRoutes, type Oidc } from './oidc-provider.js';
import { baseUrlOf } from '../http/request-context.js';
import type { Clock } from '../clock.js';
import { hitRateLimit } from '../http/rate-limit.js';

type Form = Record<string, string | undefined>;
type Details = { uid: string; prompt: { name: string }; params: Record<string, unknown>; session?: { accountId?: string } };
const EmailForm = Type.Object({ email: Type.Optional(formField(320)) });
const CodeForm = Type.Object({ email: Type.Optional(formField(320)), code: Type.Optional(formField(64)) });
const PasswordForm = Type.Object({ login: Type.Optional(formField(320)), password: Type.Optional(formField(256)) });
/** oidc-provider reads the Authorization header (userinfo) and the body itself; Foyer's authentication stays out. */
const providerRoute = { config: { anonymous: true, ownAuthentication: true }, schema: { hide: true } };
/** Sign-ins a client address without a Foyer session may start at `authorize`, per window. */
export const SIGN_IN_STARTS_PER_ADDRESS = 120;
const SIGN_IN_STARTS_WINDOW_SECONDS = 300;

/**
 * Mounts the OpenID Connect provider (discovery, authorize, token, userinfo, keys, logout, revoke)
 * and serves its interaction pages: sign-in (guests by email code, members by password, or an
 * existing Foyer session) and "you don't have access to this application".
 */
export async function registerOidcRoutes(
  app: FastifyInstance,
  deps: {
    oidc: Oidc;
    auth: AuthService;
    redemption: RedemptionService;
    db: Kysely<Database>;
    clock: Clock;
    tenantId: string;
    baseUrl: string | null;
    secureCookies: boolean;
  },
): Promise<void> {
  const { oidc, auth, redemption } = deps;
  const issuerOf = (req: FastifyRequest) => baseUrlOf(req, deps.baseUrl);

  await app.register(async (scope) => {
    // Leave request bodies unread: oidc-provider parses its own (and would refuse a pre-parsed one).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    const handle = async (req: FastifyRequest, reply: FastifyReply) => {
      if (`${OIDC_PREFIX}/${(req.params as { '*'?: string })['*']}` === oidcRoutes.authorization && req.method !== 'OPTIONS') {
        if (await refusedSignInStart(req, reply)) return reply;
      }
      const { handler } = await oidc.providerFor(issuerOf(req));
      reply.hijack();
      await handler(req.raw, reply.raw);
    };
    scope.route({ method: ['GET', 'POST', 'OPTIONS'], url: `${OIDC_PREFIX}/*`, ...providerRoute, handler: handle });
    scope.route({ method: ['GET', 'OPTIONS'], url: '/.well-known/openid-configuration', ...providerRoute, handler: handle });
  });

  const langOf = (req: FastifyRequest): Language => pageLanguage((req.query as Form)?.lang, req.headers['accept-language']);
  const send = (reply: FastifyReply, lang: Language, title: string, body: SafeHtml, status = 200) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      // No form-action here: a finished sign-in redirects to the application, which form-action 'self' would block.
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      .send(renderPage(lang, title, body));

  const orgName = async () => (await findTenant(deps.db, deps.tenantId))!.displayName;

  /**
   * Each sign-in started at `authorize` stores an interaction until it ends or expires, so a
   * browser without a Foyer session may start only so many per client address; people signed in
   * already (single sign-on, silent renewal) are not counted. Answers whether it sent the refusal page.
   */
  async function refusedSignInStart(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie && (await auth.actorFromSession(cookie))?.kind === 'user') return false;
    try {
      await hitRateLimit(deps.db, deps.clock, {
        bucket: `oidc-sign-in:ip:${req.ip}`,
        limit: SIGN_IN_STARTS_PER_ADDRESS,
        windowSeconds: SIGN_IN_STARTS_WINDOW_SECONDS,
      });
      return false;
    } catch (error) {
      if (!(error instanceof GraphError) || error.status !== 429) throw error;
      const lang = langOf(req);
      const s = pageStrings[lang];
      const seconds = Number(error.headers['retry-after'] ?? SIGN_IN_STARTS_WINDOW_SECONDS);
      reply.header('retry-after', String(seconds));
      // Not the reply itself: it is a thenable, and returning it from here would resolve to undefined.
      send(
        reply,
        lang,
        s.oidcErrorTitle,
        html`<h1>${s.oidcErrorTitle}</h1>
          <p class="error" role="alert">${s.signInsStartedTooOften(seconds)}</p>`,
        429,
      );
      return true;
    }
  }

  /** The interaction of this browser, or null when it expired or its cookie is missing. */
  async function interaction(req: FastifyRequest, reply: FastifyReply) {
    const { provider } = await oidc.providerFor(issuerOf(req));
    try {
      const details = (await provider.interactionDetails(req.raw, reply.raw)) as unknown as Details;
      if (details.uid !== (req.params as { uid: string }).uid) return null;
      const client = await provider.Client.find(String(details.params.client_id));
      return { provider, details, appName: client?.clientName ?? String(details.params.client_id) };
    } catch (error) {
      // An interaction that cannot be read now has not expired: the database is answered 503.
      if (isDatabaseUnavailable(error)) throw error;
      return null;
    }
  }
  type Interaction = NonNullable<Awaited<ReturnType<typeof interaction>>>;

  const expired = (reply: FastifyReply, lang: Language) => {
    const s = pageStrings[lang];
    return send(
      reply,
      lang,
      s.oidcErrorTitle,
      html`<h1>${s.oidcErrorTitle}</h1>
        <p>${s.interactionExpired}</p>`,
      400,
    );
  };

  /** Ends the interaction with a result and sends the browser back to the provider. */
  async function finish(req: FastifyRequest, reply: FastifyReply, it: Interaction, result: Record<string, unknown>) {
    const url = await it.provider.interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
    return reply.redirect(url, 303);
  }

  const setSession = (reply: FastifyReply, token: string) =>
    reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, maxAge: SESSION_LIFETIME_MS / 1000 });

  const action = (uid: string, step: string) => `${OIDC_PREFIX}/interaction/${encodeURIComponent(uid)}/${step}`;

  async function emailPage(reply: FastifyReply, lang: Language, it: Interaction, error?: string, status = 200) {
    const s = pageStrings[lang];
    const hint = typeof it.details.params.login_hint === 'string' ? it.details.params.login_hint.slice(0, 320) : '';
    return send(
      reply,
      lang,
      s.signInTitle,
      html`<h1>${s.signInTitle}</h1>
        <p>${s.appSignInIntro(it.appName, await orgName())}</p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : html``}
        <form method="post" action="${action(it.details.uid, 'email')}">
          <label for="email">${s.emailLabel}</label>
          <input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${hint}" autofocus />
          <button class="primary" type="submit">${s.next}</button>
        </form>
        <form method="post" action="${action(it.details.uid, 'abort')}"><button type="submit">${s.cancel}</button></form>`,
      status,
    );
  }

  function passwordPage(reply: FastifyReply, lang: Language, it: Interaction, login: string, error?: string, status = error ? 400 : 200) {
    const s = pageStrings[lang];
    return send(
      reply,
      lang,
      s.passwordTitle,
      html`<h1>${s.passwordTitle}</h1>
        <p class="muted">${login}</p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : html``}
        <form method="post" action="${action(it.details.uid, 'password')}">
          <input type="hidden" name="login" value="${login}" />
          <label for="password">${s.passwordLabel}</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256" autofocus />
          <button class="primary" type="submit">${s.verify}</button>
        </form>`,
      status,
    );
  }

  function codePage(reply: FastifyReply, lang: Language, it: Interaction, email: string, error?: string) {
    const s = pageStrings[lang];
    return send(
      reply,
      lang,
      s.codeTitle,
      html`<h1>${s.codeTitle}</h1>
        <p>${s.codeSent(email)}</p>
        <p class="muted">${s.codeNotArriving}</p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : html``}
        <form method="post" action="${action(it.details.uid, 'code')}">
          <input type="hidden" name="email" value="${email}" />
          <label for="code">${s.codeLabel}</label>
          <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="12" autofocus />
          <button class="primary" type="submit">${s.verify}</button>
        </form>
        <form method="post" action="${action(it.details.uid, 'email')}">
          <input type="hidden" name="email" value="${email}" /><button type="submit">${s.newCode}</button>
        </form>`,
      error ? 400 : 200,
    );
  }

  const codeError = codeErrorText;

  /** Members sign in with a password, everyone else (guests) with an email code: told apart by the organization's domain. */
  async function isOrganizationAddress(login: string): Promise<boolean> {
    const tenant = (await findTenant(deps.db, deps.tenantId))!;
    const domain = login.split('@').pop()!.toLowerCase();
    return domain === tenant.initialDomain.toLowerCase() || !login.includes('@');
  }

  const withInteraction =
    (work: (req: FastifyRequest, reply: FastifyReply, it: Interaction, lang: Language) => Promise<unknown>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const lang = langOf(req);
      const it = await interaction(req, reply);
      if (!it) return expired(reply, lang);
      return work(req, reply, it, lang);
    };

  app.get(
    `${OIDC_PREFIX}/interaction/:uid`,
    pageRoute(),
    withInteraction(async (req, reply, it, lang) => {
      const s = pageStrings[lang];
      if (it.details.prompt.name === 'login') {
        // Single sign-on: someone already signed in to Foyer in this browser continues as themselves.
        const cookie = req.cookies[SESSION_COOKIE];
        const actor = cookie ? await auth.actorFromSession(cookie) : null;
        if (actor?.kind === 'user') return finish(req, reply, it, { login: { accountId: actor.userId } });
        return emailPage(reply, lang, it);
      }
      if (it.details.prompt.name === 'app_access') {
        const user = await deps.db
          .selectFrom('users')
          .select(['display_name', 'mail', 'user_principal_name'])
          .where('id', '=', it.details.session?.accountId ?? '')
          .executeTakeFirst();
        const who = user ? `${user.display_name} (${user.mail ?? user.user_principal_name})` : '';
        return send(
          reply,
          lang,
          s.noAccessTitle,
          html`<h1>${s.noAccessTitle}</h1>
            <p>${s.noAccessText(who, it.appName, await orgName())}</p>
            <form method="post" action="${action(it.details.uid, 'deny')}"><button class="primary" type="submit">${s.backToApp}</button></form>`,
          403,
        );
      }
      // Consent is given by registering the application (loadExistingGrant); nothing else is asked.
      return finish(req, reply, it, { consent: {} });
    }),
  );

  app.post(
    `${OIDC_PREFIX}/interaction/:uid/email`,
    pageRoute({ body: EmailForm }),
    withInteraction(async (req, reply, it, lang) => {
      const email = ((req.body as Form).email ?? '').trim();
      if (!email) return emailPage(reply, lang, it, undefined, 400);
      if (await isOrganizationAddress(email)) return passwordPage(reply, lang, it, email);
      try {
        // The same page whether or not the address belongs to a guest here.
        await redemption.sendSignInCode(deps.tenantId, email, req.ip, lang);
      } catch (error) {
        if (error instanceof GraphError && error.status === 429) {
          reply.header('retry-after', error.headers['retry-after'] ?? '60');
          return emailPage(reply, lang, it, pageStrings[lang].throttled(Number(error.headers['retry-after'] ?? 60)), 429);
        }
        throw error;
      }
      return codePage(reply, lang, it, email);
    }),
  );

  app.post(
    `${OIDC_PREFIX}/interaction/:uid/code`,
    pageRoute({ body: CodeForm }),
    withInteraction(async (req, reply, it, lang) => {
      const { email = '', code = '' } = req.body as Form;
      const result = await redemption.signInWithCode(deps.tenantId, email, code);
      if (!result.ok) return codePage(reply, lang, it, email, codeError(lang, result));
      setSession(reply, result.sessionToken!);
      const actor = await auth.actorFromSession(result.sessionToken!);
      return finish(req, reply, it, { login: { accountId: actor?.kind === 'user' ? actor.userId : '', amr: ['otp'] } });
    }),
  );

  app.post(
    `${OIDC_PREFIX}/interaction/:uid/password`,
    pageRoute({ body: PasswordForm }),
    withInteraction(async (req, reply, it, lang) => {
      const { login = '', password = '' } = req.body as Form;
      try {
        const session = await auth.signInWithPassword(deps.tenantId, login, password, req.ip);
        setSession(reply, session.sessionToken);
        return finish(req, reply, it, { login: { accountId: session.userId, amr: ['pwd'] } });
      } catch (error) {
        if (!(error instanceof GraphError) || (error.status !== 401 && error.status !== 429)) throw error;
        const s = pageStrings[lang];
        if (error instanceof SignInLocked) {
          reply.header('retry-after', String(error.retryAfterSeconds));
          const text = error.scope === 'account' ? s.accountLocked(error.retryAfterSeconds) : s.addressLocked(error.retryAfterSeconds);
          return passwordPage(reply, lang, it, login, text);
        }
        if (error.status === 429) {
          const seconds = Number(error.headers['retry-after'] ?? 1);
          reply.header('retry-after', String(seconds));
          return passwordPage(reply, lang, it, login, s.signInBusy(seconds), 429);
        }
        return passwordPage(reply, lang, it, login, s.passwordWrong);
      }
    }),
  );

  app.post(
    `${OIDC_PREFIX}/interaction/:uid/deny`,
    pageRoute(),
    withInteraction((req, reply, it) =>
      finish(req, reply, it, { error: 'access_denied', error_description: 'The signed-in user is not assigned to the application.' }),
    ),
  );

  app.post(
    `${OIDC_PREFIX}/interaction/:uid/abort`,
    pageRoute(),
    withInteraction((req, reply, it) => finish(req, reply, it, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' })),
  );
}
