import type { Kysely } from 'kysely';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC, Account, interactionPolicy as InteractionPolicy } from 'oidc-provider';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { AuthService } from '../auth/auth.service.js';
import { SESSION_COOKIE, SESSION_LIFETIME_MS } from '../auth/auth.service.js';
import { deriveKey, hashToken, safeEqual } from '../auth/secrets.js';
import { html, SafeHtml } from '../mail/html.js';
import { pageLanguage, renderPage } from '../web/page.js';
import { pageStrings } from '../web/strings.js';
import { assignedRoleIds, DEFAULT_ACCESS_ROLE_ID, findApplicationByAppId, findServicePrincipalByAppId } from './apps.repository.js';
import { createOidcAdapter } from './oidc-adapter.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { serviceUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../graph/errors.js';
import { createSigningKeys, type SigningKeys } from './signing-keys.js';

/** Where the provider's endpoints live; discovery is at the issuer's `/.well-known/openid-configuration`. */
export const OIDC_PREFIX = '/oidc';
export const oidcRoutes = {
  authorization: `${OIDC_PREFIX}/authorize`,
  token: `${OIDC_PREFIX}/token`,
  userinfo: `${OIDC_PREFIX}/userinfo`,
  jwks: `${OIDC_PREFIX}/keys`,
  end_session: `${OIDC_PREFIX}/logout`,
  revocation: `${OIDC_PREFIX}/revoke`,
} as const;
export const interactionPath = (uid: string) => `${OIDC_PREFIX}/interaction/${uid}`;
/** How long a sign-in started at `authorize` may take (email code included) before it must start again. */
export const INTERACTION_LIFETIME_SECONDS = 15 * 60;

/** Scopes and the claims each releases (in the ID token and at userinfo). */
const claims = {
  openid: ['sub', 'oid', 'tid', 'user_type', 'roles'],
  profile: ['name', 'preferred_username', 'given_name', 'family_name'],
  email: ['email', 'email_verified'],
};

/** Client metadata never carries a usable secret: secrets are kept hashed and compared by `compareClientSecret`. */
const HASHED_SECRET_PLACEHOLDER = 'secrets-are-stored-hashed';

export type AppAccess = { allowed: true; roles: string[] } | { allowed: false; reason: 'notAssigned' | 'disabled' | 'unknown' };

export interface OidcDeps {
  db: Kysely<Database>;
  clock: Clock;
  secret: string;
  tenantId: string;
  auth: AuthService;
  /** How often a process looks for a rotated signing key (ms); 0 checks on every request. */
  keyCheckIntervalMs?: number;
  secureCookies: boolean;
}

const parseList = (json: string) => JSON.parse(json) as string[];
const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\//;

/**
 * The OpenID Connect provider (oidc-provider) for registered applications: clients are the
 * applications, accounts are the directory's users, state lives in the database. One provider per
 * issuer, rebuilt when the signing keys change.
 */
export function createOidc(deps: OidcDeps) {
  const { db, clock, auth } = deps;
  const keys: SigningKeys = createSigningKeys(db, deps.secret, clock);
  const cookieKey = Buffer.from(deriveKey(deps.secret, 'oidc-cookies')).toString('base64url');
  const interval = deps.keyCheckIntervalMs ?? 60_000;
  type ProviderEntry = { provider: Provider; handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>; fingerprint: string; checkedAt: number };
  const providers = new Map<string, ProviderEntry>();
  /** Checks in flight, per issuer: a burst of first requests builds one provider, not one each. */
  const checking = new Map<string, Promise<ProviderEntry>>();

  /** Whether a user may sign in to an application, and the app role values they hold there. */
  async function accessFor(appId: string, userId: string): Promise<AppAccess> {
    const app = await findApplicationByAppId(db, appId);
    if (!app || app.tenant_id !== deps.tenantId) return { allowed: false, reason: 'unknown' };
    const sp = await findServicePrincipalByAppId(db, appId);
    // Without a service principal the application works like Entra's default: everyone in the organization.
    if (sp && !sp.account_enabled) return { allowed: false, reason: 'disabled' };
    const held = sp ? await assignedRoleIds(db, sp.id, userId) : [];
    if (sp?.app_role_assignment_required && held.length === 0) return { allowed: false, reason: 'notAssigned' };
    const defined = JSON.parse(app.app_roles) as { id: string; value: string | null; isEnabled: boolean }[];
    const roles = held
      .filter((id) => id !== DEFAULT_ACCESS_ROLE_ID)
      .map((id) => defined.find((r) => r.id === id && r.isEnabled)?.value)
      .filter((v): v is string => Boolean(v));
    return { allowed: true, roles: [...new Set(roles)].sort() };
  }

  /** A user who may sign in at all: in this organization, not deleted, not blocked. */
  async function liveUser(userId: string) {
    if (typeof userId !== 'string' || userId.length > 64) return undefined;
    return db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', deps.tenantId)
      .where('id', '=', userId)
      .where('deleted_at', 'is', null)
      .where('account_enabled', '=', 1)
      .executeTakeFirst();
  }

  /** Client metadata for oidc-provider from a registered application, or undefined when it cannot sign anyone in. */
  async function loadClient(clientId: string) {
    if (typeof clientId !== 'string' || !/^[0-9a-f-]{36}$/i.test(clientId)) return undefined;
    const app = await findApplicationByAppId(db, clientId.toLowerCase());
    if (!app || app.tenant_id !== deps.tenantId) return undefined;
    const sp = await findServicePrincipalByAppId(db, app.app_id);
    if (sp && !sp.account_enabled) return undefined;
    const web = parseList(app.web_redirect_uris);
    const pub = parseList(app.public_client_redirect_uris);
    // Entra's rule: a "fallback public client", or one with only public client redirect URIs, has no secret.
    const isPublic = app.is_fallback_public_client === 1 || (web.length === 0 && pub.length > 0);
    const redirectUris = isPublic ? pub : web;
    if (redirectUris.length === 0) return undefined;
    const postLogout = [...redirectUris];
    if (app.web_home_page_url && (!isPublic || LOOPBACK.test(app.web_home_page_url))) postLogout.push(app.web_home_page_url);
    return {
      client_id: app.app_id,
      client_name: app.display_name,
      application_type: isPublic ? 'native' : 'web',
      token_endpoint_auth_method: isPublic ? 'none' : 'client_secret_basic',
      ...(isPublic ? {} : { client_secret: HASHED_SECRET_PLACEHOLDER }),
      redirect_uris: redirectUris,
      post_logout_redirect_uris: [...new Set(postLogout)],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
    };
  }

  /** The person of this browser's Foyer session (password or email code), if any. */
  async function sessionUserId(cookieValue: string | undefined): Promise<string | null> {
    if (!cookieValue) return null;
    const actor = await auth.actorFromSession(cookieValue);
    return actor?.kind === 'user' ? actor.userId : null;
  }

  async function build(issuer: string): Promise<Provider> {
    const { default: ProviderClass, interactionPolicy } = await import('oidc-provider');
    const policy = buildPolicy(interactionPolicy);
    const configuration: Configuration = {
      adapter: createOidcAdapter(db, loadClient) as unknown as Configuration['adapter'],
      clients: [],
      claims,
      // Entra puts the profile in the ID token too; relying parties expect name and email there.
      conformIdTokenClaims: false,
      cookies: {
        keys: [cookieKey],
        names: { session: 'foyer_oidc_session', interaction: 'foyer_oidc_interaction', resume: 'foyer_oidc_resume' },
        long: { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies },
        short: { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies },
      },
      jwks: { keys: (await keys.signingJwks()) as NonNullable<Configuration['jwks']>['keys'] },
      enabledJWA: { idTokenSigningAlgValues: ['RS256'], userinfoSigningAlgValues: ['RS256'] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: false },
        introspection: { enabled: false },
        pushedAuthorizationRequests: { enabled: false },
        resourceIndicators: { enabled: false },
        revocation: { enabled: true },
        userinfo: { enabled: true },
        rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      },
      responseTypes: ['code'],
      scopes: ['openid', 'offline_access', 'profile', 'email'],
      // PKCE (S256) is required of public clients; confidential clients may use it, and when they do it is checked.
      // Entra-like: every code exchange gets a refresh token. Without offline_access (which OpenID Connect
      // honours only with prompt=consent) it ends with the sign-in session; with it, it lasts 14 days.
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
      routes: oidcRoutes,
      ttl: {
        AccessToken: 3600,
        AuthorizationCode: 300,
        IdToken: 3600,
        // Every authorize call that needs a sign-in stores one: kept short, they are purged soon after.
        Interaction: INTERACTION_LIFETIME_SECONDS,
        Session: SESSION_LIFETIME_MS / 1000,
        Grant: 14 * 86_400,
        RefreshToken: 14 * 86_400,
      },
      interactions: { url: (_ctx, interaction) => interactionPath(interaction.uid), policy },
      findAccount,
      loadExistingGrant,
      renderError,
      clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((u) => URL.parse(u)?.origin === origin) ?? false,
    };
    const provider = new ProviderClass(issuer, configuration);
    provider.proxy = true;
    const clientProto = provider.Client.prototype as unknown as { compareClientSecret(actual: string): Promise<boolean>; clientId: string };
    clientProto.compareClientSecret = async function compare(this: { clientId: string }, actual: string) {
      return secretMatches(this.clientId, actual);
    };
    // oidc-provider answers an error it does not know as a 500 `server_error`. A database that cannot
    // be reached is `temporarily_unavailable` instead (503, with Retry-After), which a relying party retries.
    const unreachable = new WeakSet<object>();
    provider.on('server_error', (ctx: object, error: unknown) => {
      if (isDatabaseUnavailable(error)) unreachable.add(ctx);
    });
    provider.use(async (ctx, next) => {
      await next();
      if (!unreachable.has(ctx)) return;
      const out = { error: 'temporarily_unavailable', error_description: serviceUnavailable().message };
      const rendered = typeof ctx.body === 'string';
      ctx.status = 503;
      ctx.set('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      if (rendered) await renderError(ctx as unknown as KoaContextWithOIDC, out);
      else ctx.body = out;
    });
    // Signing out of an application (RP-initiated logout) ends the Foyer session of the browser too.
    provider.use(async (ctx, next) => {
      await next();
      const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
      if (oidc?.route === 'end_session_confirm' && oidc.params?.logout) {
        const cookie = ctx.cookies.get(SESSION_COOKIE);
        if (cookie) {
          await auth.signOut(hashToken(cookie));
          ctx.cookies.set(SESSION_COOKIE, null, { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies });
        }
      }
    });
    return provider;
  }

  async function secretMatches(clientId: string, actual: string): Promise<boolean> {
    if (typeof actual !== 'string' || actual.length > 512) return false;
    const now = clock.now().toISOString();
    const rows = await db
      .selectFrom('application_secrets as s')
      .innerJoin('applications as a', 'a.id', 's.application_id')
      .select(['s.secret_hash', 's.start_at', 's.end_at'])
      .where('a.app_id', '=', clientId)
      .execute();
    const digest = hashToken(actual);
    return rows.some((r) => r.start_at <= now && r.end_at > now && safeEqual(r.secret_hash, digest));
  }

  function buildPolicy(ip: typeof InteractionPolicy) {
    const { Check, Prompt, base } = ip;
    const policy = base();
    // Signed in to this provider means signed in to Foyer: the Foyer session decides who it is, so
    // signing out, deletion or blocking (which end Foyer sessions) also end single sign-on.
    policy.get('login')!.checks.add(
      new Check('foyer_session', 'End-User authentication is required', async (ctx) => {
        const userId = await sessionUserId(ctx.cookies.get(SESSION_COOKIE));
        return userId && userId === ctx.oidc.session?.accountId ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      }),
    );
    // Applications are the organization's own: registering one is the administrator's consent.
    policy.get('consent')!.checks.remove('native_client_prompt');
    policy.add(
      new Prompt(
        { name: 'app_access', requestable: false },
        new Check('not_assigned', 'The user is not assigned to the application.', 'access_denied', async (ctx) => {
          const accountId = ctx.oidc.session?.accountId;
          if (!accountId) return Check.NO_NEED_TO_PROMPT;
          return (await accessFor(ctx.oidc.client!.clientId, accountId)).allowed ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
        }),
      ),
      1,
    );
    return policy;
  }

  async function findAccount(ctx: KoaContextWithOIDC, sub: string, token?: { clientId?: string }): Promise<Account | undefined> {
    const user = await liveUser(sub);
    if (!user) return undefined;
    // With a token (code exchange, refresh, userinfo) access is checked again: an assignment removed
    // since sign-in ends the application's refresh tokens at once.
    const clientId = token?.clientId ?? ctx.oidc?.client?.clientId;
    if (token && clientId && !(await accessFor(clientId, user.id)).allowed) return undefined;
    return {
      accountId: user.id,
      async claims() {
        const access = clientId ? await accessFor(clientId, user.id) : null;
        const emailIdentity = (JSON.parse(user.identities) as { signInType: string; issuerAssignedId: string }[]).find((i) => i.signInType === 'emailAddress');
        return {
          sub: user.id,
          oid: user.id,
          tid: user.tenant_id,
          user_type: user.user_type,
          roles: access?.allowed ? access.roles : [],
          name: user.display_name,
          given_name: user.given_name ?? undefined,
          family_name: user.surname ?? undefined,
          preferred_username: user.user_type === 'Guest' ? (user.mail ?? user.user_principal_name) : user.user_principal_name,
          email: emailIdentity?.issuerAssignedId ?? user.mail ?? undefined,
          // A guest proved the address with a one-time code; a member's address is the organization's word.
          email_verified: Boolean(emailIdentity) || user.user_type === 'Member',
        };
      },
    };
  }

  async function loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { oidc } = ctx;
    const clientId = oidc.client!.clientId;
    const accountId = oidc.session!.accountId!;
    const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== accountId) grant = new oidc.provider.Grant({ clientId, accountId });
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims]);
    await grant.save();
    return grant;
  }

  const langOf = (ctx: { get(h: string): string }) => pageLanguage(null, ctx.get('accept-language') || undefined);

  function page(ctx: KoaContextWithOIDC, title: string, body: SafeHtml, status?: number) {
    ctx.type = 'html';
    if (status) ctx.status = status;
    ctx.set('cache-control', 'no-store');
    ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    ctx.body = renderPage(langOf(ctx), title, body);
  }

  async function logoutSource(ctx: KoaContextWithOIDC, form: string) {
    const s = pageStrings[langOf(ctx)];
    // `form` is oidc-provider's own markup (the confirm form with its anti-forgery field), not user input.
    page(
      ctx,
      s.logoutTitle,
      html`<h1>${s.logoutTitle}</h1>
        <p>${s.logoutQuestion(ctx.oidc.client?.clientName ?? '')}</p>
        ${new SafeHtml(form)}
        <button class="primary" type="submit" form="op.logoutForm" name="logout" value="yes">${s.logoutYes}</button>
        <button type="submit" form="op.logoutForm">${s.logoutNo}</button>`,
    );
  }

  async function postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
    const s = pageStrings[langOf(ctx)];
    page(
      ctx,
      s.loggedOutTitle,
      html`<h1>${s.loggedOutTitle}</h1>
        <p>${s.loggedOutText}</p>`,
    );
  }

  async function renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
    const s = pageStrings[langOf(ctx)];
    page(
      ctx,
      s.oidcErrorTitle,
      html`<h1>${s.oidcErrorTitle}</h1>
        <p>${s.oidcErrorText}</p>
        <p class="error" role="alert">${out.error}${out.error_description ? `: ${out.error_description}` : ''}</p>`,
    );
  }

  return {
    keys,
    accessFor,

    /** The provider for an issuer (built on first use, rebuilt after a key rotation). */
    async providerFor(issuer: string): Promise<ProviderEntry> {
      const now = Date.now();
      const entry = providers.get(issuer);
      if (entry && now - entry.checkedAt < interval) return entry;
      let check = checking.get(issuer);
      if (!check) {
        check = (async () => {
          const fingerprint = await keys.fingerprint();
          if (entry && entry.fingerprint === fingerprint) {
            entry.checkedAt = now;
            return entry;
          }
          const provider = await build(issuer);
          // Read again: building may have created the first key.
          const built = { provider, handler: provider.callback() as never, fingerprint: await keys.fingerprint(), checkedAt: now };
          // A handful of issuers at most (one per public host name when FOYER_BASE_URL is unset).
          if (providers.size >= 8) providers.delete(providers.keys().next().value!);
          providers.set(issuer, built);
          return built;
        })().finally(() => checking.delete(issuer));
        checking.set(issuer, check);
      }
      return check;
    },
  };
}
export type Oidc = ReturnType<typeof createOidc>;
