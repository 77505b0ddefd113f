import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../auth/permissions.js';
import { GraphError, forbidden } from '../graph/errors.js';
import { SESSION_COOKIE, type AuthService } from '../auth/auth.service.js';
import { safeEqual } from '../auth/secrets.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** Route answers without a signed-in caller. */
    anonymous?: boolean;
    /** Route authenticates its callers itself (the OpenID Connect provider): no bearer or session check here. */
    ownAuthentication?: boolean;
  }
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Resolves the caller of every request: a bearer token (API client) or the session cookie
 * (a person, with a CSRF header on writes). Routes without `config.anonymous` need one.
 */
export function registerAuthentication(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('actor', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config?.ownAuthentication === true) return;
    const header = request.headers.authorization;
    const anonymous = request.routeOptions.config?.anonymous === true;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) {
        if (anonymous) return;
        throw new GraphError('Authentication_MissingOrMalformed', 'The Authorization header must be "Bearer <access token>".');
      }
      request.actor = await auth.actorFromBearer(m[1]!);
      return;
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (cookie) {
      const actor = await auth.actorFromSession(cookie);
      if (actor) {
        // Cookies ride along on cross-site requests; a write must prove it came from our pages.
        if (unsafeMethods.has(request.method) && !anonymous) {
          const sent = request.headers['x-csrf-token'];
          if (typeof sent !== 'string' || !safeEqual(sent, auth.csrfTokenFor(cookie)))
            throw forbidden('The X-CSRF-Token header is missing or does not match the session.');
        }
        request.actor = actor;
        return;
      }
    }
    if (!anonymous) throw new GraphError('Authentication_MissingOrMalformed', 'Access token is empty or the session has expired. Sign in again.');
  });
}

/** The caller of an authenticated route. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new GraphError('Authentication_MissingOrMalformed', 'Access token is empty.');
  return request.actor;
}
