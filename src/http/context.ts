import type { Actor } from '../auth/permissions.js';

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
