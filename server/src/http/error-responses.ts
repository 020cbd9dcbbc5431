import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { ErrorCatalogue, type TErrorCode, type TFieldIssue, type TRestError } from '@gen3d/shared';

import { DomainError } from '../domain-errors.js';

const FASTIFY_BODY_ERRORS: Record<string, { code: TErrorCode; message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'MALFORMED_BODY',
    message: 'Content-Length does not match the body',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'MALFORMED_BODY',
    message: 'Body cannot be empty when content-type is application/json',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'MALFORMED_BODY' },
};

/** The REST error body of `code`: its `statusCode` is the catalogue's status, which the answer must carry. */
export function restError(
  code: TErrorCode,
  message: string = ErrorCatalogue[code].message,
  requestId: string,
  extra: { issues?: TFieldIssue[] } = {},
): TRestError {
  return { error: message, code, statusCode: ErrorCatalogue[code].status, requestId, ...extra };
}

/** Answers with a REST error body, at the status the body names. */
export function sendRestError(reply: FastifyReply, body: TRestError): FastifyReply {
  return reply.status(body.statusCode).send(body);
}

/** Classifies an error that reached Fastify itself (body parsing, rate limits, hooks, bugs). */
function classify(error: FastifyError | DomainError | Error, requestId: string): TRestError {
  if (error instanceof DomainError) {
    return restError(error.code, error.message, requestId, error.issues ? { issues: error.issues } : {});
  }
  const fastifyError = error as FastifyError;
  const known = fastifyError.code ? FASTIFY_BODY_ERRORS[fastifyError.code] : undefined;
  if (known) return restError(known.code, known.message, requestId);
  if (fastifyError instanceof SyntaxError || fastifyError.statusCode === 400)
    return restError('MALFORMED_BODY', undefined, requestId);
  if (fastifyError.statusCode === 413) return restError('PAYLOAD_TOO_LARGE', undefined, requestId);
  if (fastifyError.statusCode === 415) return restError('UNSUPPORTED_MEDIA_TYPE', undefined, requestId);
  return restError('INTERNAL', `${ErrorCatalogue.INTERNAL.message} (request id ${requestId})`, requestId);
}

/** One JSON error body for everything Fastify answers itself, never a stack trace. */
export function registerErrorResponses(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const body = classify(error, String(request.id));
    if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code }, body.error);
    if (error instanceof DomainError && error.retryAfterSeconds !== undefined)
      reply.header('retry-after', error.retryAfterSeconds);
    return sendRestError(reply, body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendRestError(
      reply,
      restError(
        'ROUTE_NOT_FOUND',
        `Route ${request.method} ${request.url.split('?')[0]} not found`,
        String(request.id),
      ),
    ),
  );
}
