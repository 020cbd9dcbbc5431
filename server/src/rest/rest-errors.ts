import type { TRPCError } from '@trpc/server';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { TRestError } from '@gen3d/shared';

import { restError } from '../http/error-responses.js';
import { describeError } from '../trpc/error-formatter.js';

/**
 * trpc-to-openapi answers errors in the tRPC error shape, at the status of the tRPC code. The REST
 * projection answers the REST error body at the catalogue's status instead: its onError keeps the error
 * described for the request (`keepRestError`), and its onSend (`restErrorBodyHook`) sends that.
 */
const restErrorsOfRequests = new WeakMap<FastifyRequest, { body: TRestError; retryAfterSeconds?: number }>();

export function keepRestError(request: FastifyRequest, error: TRPCError): void {
  const requestId = String(request.id);
  const { code, message, issues, retryAfterSeconds } = describeError(error, requestId);
  restErrorsOfRequests.set(request, {
    body: restError(code, message, requestId, issues ? { issues } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  });
}

export async function restErrorBodyHook(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  const kept = restErrorsOfRequests.get(request);
  if (!kept) return payload;
  restErrorsOfRequests.delete(request);
  if (kept.retryAfterSeconds !== undefined) reply.header('retry-after', kept.retryAfterSeconds);
  reply.status(kept.body.statusCode);
  return JSON.stringify(kept.body);
}
