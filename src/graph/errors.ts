/** The closed set of Graph error codes Foyer answers with, and their HTTP status. */
export const graphErrorStatus = {
  Request_BadRequest: 400,
  Request_UnsupportedQuery: 400,
  Request_ResourceNotFound: 404,
  Request_MultipleObjectsWithSameKeyValue: 400,
  Request_EntityTooLarge: 413,
  Request_UnsupportedMediaType: 415,
  Request_MethodNotAllowed: 405,
  Authentication_MissingOrMalformed: 401,
  Authorization_RequestDenied: 403,
  Request_ThrottledTemporarily: 429,
  Service_InternalServerError: 500,
  Service_ServiceUnavailable: 503,
} as const;

export type GraphErrorCode = keyof typeof graphErrorStatus;

/** An error answered to the client in Graph's envelope; throw it from any layer. */
export class GraphError extends Error {
  readonly status: number;
  constructor(
    readonly code: GraphErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = graphErrorStatus[code];
  }
}

export const badRequest = (message: string) => new GraphError('Request_BadRequest', message);
export const unsupportedQuery = (message = 'Unsupported Query.') => new GraphError('Request_UnsupportedQuery', message);
export const forbidden = (message = 'Insufficient privileges to complete the operation.') => new GraphError('Authorization_RequestDenied', message);
export const notFound = (id: string) =>
  new GraphError('Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

/** Seconds a client is asked to wait before retrying while the database is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** 503 while the database cannot be reached; Graph's code and wording, with a Retry-After. */
export const serviceUnavailable = () =>
  new GraphError('Service_ServiceUnavailable', 'Service is temporarily unavailable. Please wait and retry again.', {
    'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS),
  });
