import type { Actor } from '../auth/permissions.js';
import { systemActor } from '../audit/audit.service.js';

/** What a service needs to know about the request it serves. */
export interface RequestContext {
  actor: Actor;
  /** Correlates audit entries and logs of one request (the request-id). */
  correlationId: string;
  /** Public base URL, for @odata.context and nextLink. */
  baseUrl: string;
  /** Path and query as called, for nextLink. */
  requestUrl: string;
  query: Record<string, unknown>;
  consistencyLevel: string | undefined;
}

/** The context of a `foyer` command: it acts as Foyer itself, named so in the audit log. */
export function commandLineContext(tenantId: string, requestUrl: string, query: Record<string, unknown> = {}): RequestContext {
  return {
    actor: { ...systemActor(tenantId), displayName: 'Foyer command line' },
    correlationId: `cli-${process.pid}`,
    baseUrl: '',
    requestUrl,
    query,
    consistencyLevel: undefined,
  };
}
