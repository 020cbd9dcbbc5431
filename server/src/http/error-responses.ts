import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { HttpStatusOfErrorCode, type TErrorCode, type TFieldIssue, type TRestError } from '@gen3d/shared';

import { DomainError } from '../domain-errors.js';
import { describeIssues, type FormattedError } from '../trpc/error-formatter.js';

const FASTIFY_BODY_ERRORS: Record<string, { code: TErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Unsupported content type; send application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'MALFORMED_BODY',
    message: 'Content-Length does not match the body',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'MALFORMED_BODY',
    message: 'Body cannot be empty when content-type is application/json',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'MALFORMED_BODY', message: 'Body is not valid JSON' },
};

export function restError(
  code: TErrorCode,
  message: string,
  requestId: string,
  extra: { issues?: TFieldIssue[] } = {},
): TRestError {
  return { error: message, code, statusCode: HttpStatusOfErrorCode[code], requestId, ...extra };
}

/** Classifies an error that reached Fastify itself (body parsing, rate limits, hooks, bugs). */
function classify(error: FastifyError | DomainError | Error, requestId: string): TRestError {
  if (error instanceof DomainError) {
    return restError(error.code, error.message, requestId, error.issues ? { issues: error.issues } : {});
  }
  const fastifyError = error as FastifyError;
  const known = fastifyError.code ? FASTIFY_BODY_ERRORS[fastifyError.code] : undefined;
  if (known) return restError(known.code, known.message, requestId);
  if (fastifyError instanceof SyntaxError || fastifyError.statusCode === 400) {
    return restError('MALFORMED_BODY', 'Body is not valid JSON', requestId);
  }
  if (fastifyError.statusCode === 413)
    return restError('PAYLOAD_TOO_LARGE', 'Request body is too large', requestId);
  if (fastifyError.statusCode === 415)
    return restError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type; send application/json', requestId);
  return restError('INTERNAL', `Internal server error (request id ${requestId})`, requestId);
}

/** One JSON error body for everything Fastify answers itself, never a stack trace. */
export function registerErrorResponses(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const body = classify(error, String(request.id));
    if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code }, body.error);
    if (error instanceof DomainError && error.retryAfterSeconds !== undefined)
      reply.header('retry-after', error.retryAfterSeconds);
    return reply.status(body.statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(
        restError(
          'ROUTE_NOT_FOUND',
          `Route ${request.method} ${request.url.split('?')[0]} not found`,
          String(request.id),
        ),
      ),
  );
}

/**
 * trpc-to-openapi answers errors with the tRPC error shape; REST clients read `error` and `code`.
 * This onSend hook rewrites error bodies of the REST projection into the REST error shape.
 */
export async function restErrorBodyHook(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
  let parsed: Partial<FormattedError> & { error?: unknown };
  try {
    parsed = JSON.parse(payload) as typeof parsed;
  } catch {
    return payload;
  }
  if (typeof parsed.error === 'string' || !parsed.data) return payload;
  const { data } = parsed;
  const requestId = data.requestId ?? String(request.id);
  const message =
    data.code === 'VALIDATION_FAILED' && data.issues
      ? describeIssues(data.issues)
      : (parsed.message ?? 'Request failed');
  if (data.retryAfterSeconds !== undefined) reply.header('retry-after', data.retryAfterSeconds);
  return JSON.stringify(restError(data.code, message, requestId, data.issues ? { issues: data.issues } : {}));
}
