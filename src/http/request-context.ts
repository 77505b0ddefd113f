import type { FastifyRequest } from 'fastify';
import type { RequestContext } from './context.js';
import { actorOf } from './authenticate.js';
import { badRequest } from '../graph/errors.js';

/** A host name, IPv4 address or bracketed IPv6 address, with an optional port: what a Host header may hold. */
const hostPattern = /^(?:[a-z0-9_.-]{1,253}|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/i;

/**
 * The public base URL links are built on: FOYER_BASE_URL when set, else the scheme and host the
 * request arrived with. Fastify reads X-Forwarded-Host and -Proto only from a peer FOYER_TRUST_PROXY
 * trusts, so without a trusted proxy a client cannot point the links (emails included) elsewhere.
 */
export function baseUrlOf(request: FastifyRequest, configuredBaseUrl: string | null): string {
  if (configuredBaseUrl) return configuredBaseUrl;
  const host = request.host;
  const protocol = request.protocol?.toLowerCase();
  if (!hostPattern.test(host)) throw badRequest('The Host header is not a valid host name.');
  if (protocol !== 'http' && protocol !== 'https') throw badRequest('The forwarded protocol must be http or https.');
  return `${protocol}://${host.toLowerCase()}`;
}

/** Builds the service context of an authenticated request. */
export function contextOf(request: FastifyRequest, configuredBaseUrl: string | null): RequestContext {
  return {
    actor: actorOf(request),
    correlationId: request.id,
    baseUrl: baseUrlOf(request, configuredBaseUrl),
    requestUrl: request.url,
    query: (request.query ?? {}) as Record<string, unknown>,
    consistencyLevel: request.headers.consistencylevel as string | undefined,
  };
}
