import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { OAuthError, SESSION_COOKIE, SESSION_LIFETIME_MS, type AuthService } from './auth.service.js';
import { actorOf } from '../http/authenticate.js';
import { hashToken } from './secrets.js';
import { formatValidationErrors, formField } from '../http/validation.js';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { directoryRoleList } from './permissions.js';
import { badRequest, GraphError } from '../graph/errors.js';

const SignInBody = Type.Object(
  { userName: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

/** The token request's parameters: each at most once and a string (RFC 6749 5.2: otherwise invalid_request). */
const TokenForm = Type.Object({
  grant_type: Type.Optional(formField(100)),
  client_id: Type.Optional(formField(256)),
  client_secret: Type.Optional(formField(512)),
  scope: Type.Optional(formField(2048)),
});

/** Token endpoint (OAuth 2.0 client credentials) and password sessions for the web UI. */
export function registerAuthRoutes(app: FastifyInstance, auth: AuthService, opts: { tenantId: string; secureCookies: boolean }): void {
  const tokenHandler = async (req: FastifyRequest) => {
    const form = req.body as Static<typeof TokenForm>;
    let basic: { id: string; secret: string } | null = null;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      try {
        if (i > 0) basic = { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
      } catch {
        // A bad percent-encoding is a failed client authentication (RFC 6749 2.3.1), not a server error.
        throw new OAuthError('invalid_client', 'The client id or secret in the Authorization header is not validly encoded.');
      }
    }
    return auth.issueClientToken(form, basic);
  };
  const tokenRoute = {
    config: { anonymous: true, acceptsCrossSitePosts: true },
    schema: { tags: ['auth'], summary: 'OAuth 2.0 token endpoint (client credentials)', body: TokenForm },
    schemaErrorFormatter: (errors: FastifySchemaValidationError[], dataVar: string) =>
      new OAuthError('invalid_request', formatValidationErrors(errors, dataVar).message),
  };
  app.post('/oauth2/v2.0/token', tokenRoute, tokenHandler);
  // MSAL and Azure Identity put the tenant in the path.
  app.post('/:tenant/oauth2/v2.0/token', tokenRoute, tokenHandler);

  const sessionView = async (req: FastifyRequest, cookieValue: string) => {
    const actor = actorOf(req);
    if (actor.kind !== 'user') throw badRequest('Sessions belong to people; an API client has none.');
    return {
      user: { id: actor.userId, displayName: actor.displayName, userPrincipalName: actor.userPrincipalName, userType: actor.userType },
      roles: directoryRoleList.filter((r) => actor.roles.has(r.id)).map((r) => ({ id: r.id, displayName: r.displayName })),
      csrfToken: auth.csrfTokenFor(cookieValue),
    };
  };

  app.post(
    '/v1.0/foyer/session',
    {
      config: { anonymous: true },
      schema: { tags: ['auth'], summary: 'Sign in with a password', body: SignInBody },
      schemaErrorFormatter: (e, v) => formatValidationErrors(e, v),
    },
    async (req, reply) => {
      // JSON only: a cross-site HTML form cannot send it, so no other site can sign a browser in.
      if (!req.headers['content-type']?.toLowerCase().startsWith('application/json'))
        throw new GraphError('Request_UnsupportedMediaType', 'Sign in with a JSON body (Content-Type: application/json).');
      const body = req.body as Static<typeof SignInBody>;
      const session = await auth.signInWithPassword(opts.tenantId, body.userName, body.password, req.ip);
      reply.setCookie(SESSION_COOKIE, session.sessionToken, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: opts.secureCookies,
        maxAge: SESSION_LIFETIME_MS / 1000,
      });
      req.actor = await auth.actorFromSession(session.sessionToken);
      return sessionView(req, session.sessionToken);
    },
  );
  app.get('/v1.0/foyer/session', { schema: { tags: ['auth'], summary: 'The current session' } }, (req) => sessionView(req, req.cookies[SESSION_COOKIE] ?? ''));
  app.delete('/v1.0/foyer/session', { schema: { tags: ['auth'], summary: 'Sign out' } }, async (req, reply) => {
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie) await auth.signOut(hashToken(cookie));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });
}
