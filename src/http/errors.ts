import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GraphError, serviceUnavailable, type GraphErrorCode } from '../graph/errors.js';
import { OAuthError } from '../auth/auth.service.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { sendErrorPage } from '../web/page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Route is a server-rendered page a browser posts forms to: its errors are answered as a page. */
    page?: boolean;
  }
}

/** Graph's error envelope, with the ids a caller quotes to support. */
export function errorEnvelope(request: FastifyRequest, code: string, message: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': request.id,
        'client-request-id': (request.headers['client-request-id'] as string | undefined) ?? request.id,
      },
    },
  };
}

const fastifyCodes: Record<string, [GraphErrorCode, string?]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['Request_EntityTooLarge', 'The request body is larger than the server accepts.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['Request_UnsupportedMediaType', 'The content type of the request is not supported; send application/json.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['Request_BadRequest', 'The request body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['Request_BadRequest', 'The request body is not valid JSON.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['Request_BadRequest', 'The Content-Length header does not match the body.'],
};

const jsonContentType = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;
/** The pages take forms, so a form that fails a page's schema is bad input rather than the wrong media type. */
const formContentType = /^application\/x-www-form-urlencoded\s*(;|$)/i;

/**
 * Errors Fastify answers before routing (a malformed percent-encoding, a path segment over
 * maxParamLength); without this they leave in Fastify's own shape instead of Graph's envelope.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A segment of the URL is too long.' : 'The URL is not valid; check its percent-encoding.';
  // No route means no onSend hooks: set the correlation headers here.
  const clientRequestId = request.headers['client-request-id'];
  reply.header('request-id', request.id).header('client-request-id', typeof clientRequestId === 'string' ? clientRequestId : request.id);
  return reply.status(400).send(errorEnvelope(request, 'Request_BadRequest', message));
}

/** An error as the client is told it: status, Graph code, message. */
function describeError(error: FastifyError | Error, request: FastifyRequest): { status: number; code: string; message: string } {
  if (error instanceof GraphError) return { status: error.status, code: error.code, message: error.message };
  const fe = error as FastifyError;
  if (fe.validation) {
    // Text and form bodies are parsed too (Fastify's text/plain parser, formbody for the token endpoint), so a JSON
    // document sent as `fetch` does by default (text/plain) would fail as "expected object": name the real problem.
    const type = request.headers['content-type'];
    const formOfAPage = request.routeOptions.config?.page === true && formContentType.test(type ?? '');
    if (fe.validationContext === 'body' && type && !jsonContentType.test(type) && !formOfAPage)
      return { status: 415, code: 'Request_UnsupportedMediaType', message: fastifyCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE![1]! };
    return { status: 400, code: 'Request_BadRequest', message: fe.message };
  }
  const mapped = fe.code ? fastifyCodes[fe.code] : undefined;
  if (mapped) {
    const status = { Request_EntityTooLarge: 413, Request_UnsupportedMediaType: 415 }[mapped[0] as string] ?? 400;
    return { status, code: mapped[0], message: mapped[1] ?? fe.message };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, code: 'Request_BadRequest', message: fe.message };
  return { status: 500, code: 'Service_InternalServerError', message: 'Encountered an internal server error.' };
}

/**
 * The one error handler: GraphErrors and OAuth errors as they are, validation and parser errors as
 * 4xx, a database that cannot be reached as a 503 to retry, anything else as a 500 whose details
 * stay in the log. A browser on a server-rendered page (route config `page`) gets the error as a
 * page, anyone else Graph's envelope.
 */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (isDatabaseUnavailable(error)) {
    // One line per request, without a stack: during an outage every request logs it.
    request.log.warn({ databaseError: error.message, code: (error as { code?: unknown }).code }, 'database unavailable; answered 503');
    const unavailable = serviceUnavailable();
    error = unavailable;
    // The token endpoint answers in OAuth's shape, as Entra's does when it cannot issue tokens.
    if (request.routeOptions.url?.endsWith('/oauth2/v2.0/token')) {
      for (const [k, v] of Object.entries(unavailable.headers)) reply.header(k, v);
      error = new OAuthError('temporarily_unavailable', unavailable.message, unavailable.status);
    }
  }
  if (error instanceof OAuthError) return reply.status(error.status).send({ error: error.error, error_description: error.description });
  if (error instanceof GraphError) for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
  const { status, code, message } = describeError(error, request);
  if (status >= 500) request.log.error({ err: error }, 'unhandled error');
  if (request.routeOptions.config?.page === true && /\btext\/html\b/i.test(request.headers.accept ?? '')) return sendErrorPage(request, reply, status, message);
  return reply.status(status).send(errorEnvelope(request, code, message));
}
