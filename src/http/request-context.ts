import type { FastifyRequest } from 'fastify';
import type { RequestContext } from './context.js';
import { actorOf } from './authenticate.js';

/** Builds the service context of an authenticated request. */
export function contextOf(request: FastifyRequest, configuredBaseUrl: string | null): RequestContext {
  return {
    actor: actorOf(request),
    correlationId: request.id,
    baseUrl: configuredBaseUrl ?? `${request.protocol}://${request.host}`,
    requestUrl: request.url,
    query: (request.query ?? {}) as Record<string, unknown>,
    consistencyLevel: request.headers.consistencylevel as string | undefined,
  };
}
