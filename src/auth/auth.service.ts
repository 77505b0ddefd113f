import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { GraphError } from '../graph/errors.js';
import { createAccessTokens, ACCESS_TOKEN_LIFETIME_SECONDS } from './access-tokens.js';
import type { Actor } from './permissions.js';
import { deriveKey, hashPassword, hashToken, hmac, passwordNeedsRehash, passwordWork, randomToken, safeEqual, verifyPassword } from './secrets.js';
import { createSignInLockout, type LockoutScope } from './sign-in-lockout.js';

export const SESSION_COOKIE = 'foyer_session';
export const SESSION_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** OAuth 2.0 error, answered in RFC 6749's shape (not Graph's): token endpoints speak OAuth. */
export class OAuthError extends Error {
  constructor(
    readonly error:
      'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'temporarily_unavailable',
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
  }
}

const unauthenticated = (message: string) => new GraphError('Authentication_MissingOrMalformed', message);

/**
 * A password sign-in refused by smart lockout. It is answered as a wrong password is (401), with a
 * message of its own (after Entra's AADSTS50053) and Retry-After; unknown sign-in names lock the
 * same way, so the answer says nothing about whether an account exists.
 */
export class SignInLocked extends GraphError {
  constructor(
    readonly scope: LockoutScope,
    readonly retryAfterSeconds: number,
  ) {
    super(
      'Authentication_MissingOrMalformed',
      scope === 'account'
        ? `Your account is temporarily locked to prevent unauthorized use: it had too many sign-in attempts with an incorrect password. Try again in ${retryAfterSeconds} seconds.`
        : `Sign-in from your network address is temporarily blocked: it made too many sign-in attempts with an incorrect user name or password. Try again in ${retryAfterSeconds} seconds.`,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}

export function createAuthService(deps: { db: Kysely<Database>; clock: Clock; secret: string }) {
  const { db, clock } = deps;
  const tokens = createAccessTokens(deps.secret);
  const lockout = createSignInLockout(db, clock);
  const csrfKey = deriveKey(deps.secret, 'csrf');

  /** The CSRF token bound to a session: derived, so nothing extra is stored. */
  const csrfTokenFor = (sessionToken: string) => hmac(csrfKey, hashToken(sessionToken));

  async function loadUserActor(tenantId: string, userId: string, sessionTokenHash: string): Promise<Actor | null> {
    const user = await db
      .selectFrom('users')
      .innerJoin('tenants', 'tenants.id', 'users.tenant_id')
      .select(['users.id', 'users.display_name', 'users.user_principal_name', 'users.user_type', 'tenants.authorization_policy'])
      .where('users.tenant_id', '=', tenantId)
      .where('users.id', '=', userId)
      .where('users.deleted_at', 'is', null)
      .where('users.account_enabled', '=', 1)
      .executeTakeFirst();
    if (!user) return null;
    const roles = await db.selectFrom('role_assignments').select('role_template_id').where('user_id', '=', userId).execute();
    return {
      kind: 'user',
      tenantId,
      userId: user.id,
      displayName: user.display_name,
      userPrincipalName: user.user_principal_name,
      userType: user.user_type,
      roles: new Set(roles.map((r) => r.role_template_id)),
      sessionTokenHash,
      guestAccess: (JSON.parse(user.authorization_policy) as { guestUserRoleId: string }).guestUserRoleId,
    };
  }

  /** Opens a 24-hour session for a user who has just proven who they are; returns the cookie value. */
  async function startSession(tenantId: string, userId: string) {
    const now = clock.now();
    const sessionToken = randomToken(32);
    const expiresAt = new Date(now.getTime() + SESSION_LIFETIME_MS);
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('sessions')
        .values({
          token_hash: hashToken(sessionToken),
          tenant_id: tenantId,
          user_id: userId,
          created_at: now.toISOString(),
          expires_at: expiresAt.toISOString(),
          revoked_at: null,
        })
        .execute();
      await trx
        .updateTable('users')
        .set({ last_sign_in_at: now.toISOString(), last_successful_sign_in_at: now.toISOString() })
        .where('id', '=', userId)
        .execute();
    });
    return { sessionToken, userId, expiresAt };
  }

  return {
    csrfTokenFor,
    startSession,

    /** OAuth 2.0 client credentials grant. */
    async issueClientToken(form: Record<string, string | undefined>, basicAuth: { id: string; secret: string } | null) {
      if (form.grant_type !== 'client_credentials')
        throw new OAuthError(
          form.grant_type ? 'unsupported_grant_type' : 'invalid_request',
          form.grant_type ? `The grant type '${form.grant_type}' is not supported.` : "The request body must contain 'grant_type'.",
        );
      const clientId = basicAuth?.id ?? form.client_id;
      const clientSecret = basicAuth?.secret ?? form.client_secret;
      if (!clientId || !clientSecret) throw new OAuthError('invalid_request', "The request body must contain 'client_id' and 'client_secret'.");
      const scope = form.scope ?? '';
      if (!scope.split(' ').some((s) => s === '.default' || s.endsWith('/.default')))
        throw new OAuthError(
          'invalid_scope',
          "The scope must be '.default' (for example 'https://graph.microsoft.com/.default') for the client credentials flow.",
        );
      const client = await db.selectFrom('api_clients').selectAll().where('id', '=', clientId).executeTakeFirst();
      if (!client || client.disabled_at || !safeEqual(client.secret_hash, hashToken(clientSecret)))
        throw new OAuthError('invalid_client', 'The client id or secret is not valid.');
      const roles = JSON.parse(client.permissions) as string[];
      const accessToken = await tokens.issue({ tenantId: client.tenant_id, clientId: client.id, secretVersion: client.secret_version, roles }, clock.now());
      return { token_type: 'Bearer', expires_in: ACCESS_TOKEN_LIFETIME_SECONDS, ext_expires_in: ACCESS_TOKEN_LIFETIME_SECONDS, access_token: accessToken };
    },

    /** The API client behind a bearer token; its permissions are read live, so revoking takes effect at once. */
    async actorFromBearer(token: string): Promise<Actor> {
      const claims = await tokens.verify(token, clock.now());
      if (!claims) throw unauthenticated('Access token validation failure: the token is invalid or expired.');
      const client = await db
        .selectFrom('api_clients')
        .selectAll()
        .where('id', '=', claims.clientId)
        .where('tenant_id', '=', claims.tenantId)
        .executeTakeFirst();
      if (!client || client.disabled_at) throw unauthenticated('Access token validation failure: the client no longer exists.');
      // A rotation ends the tokens issued for the old secret at once (docs/security.md).
      if (claims.secretVersion !== client.secret_version) throw unauthenticated("Access token validation failure: the client's secret was replaced.");
      return {
        kind: 'app',
        tenantId: client.tenant_id,
        clientId: client.id,
        displayName: client.display_name,
        permissions: new Set(JSON.parse(client.permissions) as string[]),
      };
    },

    /** The person behind a session cookie, or null when the session is unknown, expired, revoked, or its user can no longer sign in. */
    async actorFromSession(sessionToken: string): Promise<Actor | null> {
      const tokenHash = hashToken(sessionToken);
      const session = await db
        .selectFrom('sessions')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', clock.now().toISOString())
        .executeTakeFirst();
      if (!session) return null;
      return loadUserActor(session.tenant_id, session.user_id, tokenHash);
    },

    /**
     * Password sign-in for members, under smart lockout per account and per client address;
     * returns the new session's cookie value. Throws SignInLocked while a lock holds, and 429 when
     * password checks are queued full.
     */
    async signInWithPassword(tenantId: string, login: string, password: string, clientAddress: string) {
      // A flood meets a full queue before any database work.
      await passwordWork.refuseWhenFull();
      const name = login.trim().toLowerCase();
      // Two index lookups (sign-in name, then mail) rather than an OR, which both planners answer with a scan.
      const byColumn = (col: 'user_principal_name_lower' | 'mail_lower') =>
        db
          .selectFrom('users')
          .select(['id', 'password_hash', 'account_enabled'])
          .where('tenant_id', '=', tenantId)
          .where('deleted_at', 'is', null)
          .where(col, '=', name)
          .where('password_hash', 'is not', null)
          .executeTakeFirst();
      const user = (await byColumn('user_principal_name_lower')) ?? (await byColumn('mail_lower'));
      const claim = await lockout.claim(user ? `account:${user.id}` : `name:${tenantId}:${name}`, clientAddress);
      if (!claim.ok) throw new SignInLocked(claim.scope, claim.retryAfterSeconds);
      let ok: boolean;
      try {
        ok = await verifyPassword(user?.password_hash ?? null, password);
      } catch (error) {
        await lockout.unjudged(claim.keys);
        throw error;
      }
      if (!user || !ok || !user.account_enabled) throw unauthenticated('The user name or password is incorrect.');
      await lockout.succeeded(claim.keys);
      // A hash made with older parameters (four lanes) is replaced while the password is at hand;
      // when password work is queued full it waits for a later sign-in rather than refuse this one.
      if (passwordNeedsRehash(user.password_hash!)) {
        const hash = await hashPassword(password).catch((error: unknown) => {
          if (error instanceof GraphError && error.status === 429) return null;
          throw error;
        });
        if (hash)
          await db.updateTable('users').set({ password_hash: hash }).where('id', '=', user.id).where('password_hash', '=', user.password_hash).execute();
      }
      return startSession(tenantId, user.id);
    },

    async signOut(sessionTokenHash: string): Promise<void> {
      await db.updateTable('sessions').set({ revoked_at: clock.now().toISOString() }).where('token_hash', '=', sessionTokenHash).execute();
    },

    hashPassword,
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
