import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden } from '../graph/errors.js';
import { baseUrlOf } from './request-context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Route takes posts from any site: programs call it, and it neither reads nor sets cookies (the OAuth token endpoint). */
    acceptsCrossSitePosts?: boolean;
  }
}

/** Bodies a page of another site can post without the browser asking Foyer first (CORS "simple" requests). */
const simpleBodyType = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\s*(;|$)/i;

/** The origin a header names, or null when it names none (absent, `null`, or not a URL). */
function originOf(value: string | undefined): string | null {
  if (!value || value === 'null') return null;
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/** Why a form post must be refused, or null when it comes from Foyer's own pages. */
function crossSiteReason(request: FastifyRequest, ownOrigin: string): string | null {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return 'The browser says the form was posted from another site.';
  const origin = request.headers.origin;
  const referer = request.headers.referer;
  // Origin first; Referer only when the browser sent no Origin at all (OWASP's origin verification).
  const claimed = origin !== undefined ? origin : referer;
  const source = originOf(claimed);
  if (source === ownOrigin) return null;
  if (source !== null || (claimed && claimed !== 'null')) return `The form was posted from '${source ?? claimed}'.`;
  // Nothing names the origin: only the browser's own Fetch metadata vouches for it (OWASP recommends refusing otherwise).
  return site === 'same-origin' ? null : 'The form post names no origin (neither Origin nor Referer).';
}

/**
 * Login CSRF defence of the pages: a POST that another site's page could send (a form or a
 * no-cors fetch) to a route anyone may call is accepted only from Foyer's own origin, the base
 * URL by the rule of `baseUrlOf`. Routes that need a signed-in caller are covered by the
 * session's X-CSRF-Token instead (authenticate.ts); the OpenID Connect provider checks its own.
 */
export function registerFormOriginCheck(app: FastifyInstance, configuredBaseUrl: string | null): void {
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'POST') return;
    const config = request.routeOptions.config;
    if (config?.anonymous !== true || config.ownAuthentication === true || config.acceptsCrossSitePosts === true) return;
    const type = request.headers['content-type'];
    if (type !== undefined && !simpleBodyType.test(type)) return;
    const ownOrigin = new URL(baseUrlOf(request, configuredBaseUrl)).origin;
    const reason = crossSiteReason(request, ownOrigin);
    if (reason) throw forbidden(`${reason} Foyer accepts this form only from its own pages at '${ownOrigin}'.`);
  });
}
