import type { FastifyRequest } from 'fastify';

/**
 * A bodiless POST (e.g. `curl -X POST /api/auth/logout-all`) carries no content type; trpc-to-openapi
 * would answer 415. With no body there is nothing to mistype, so it is treated as an empty JSON body.
 */
export async function bodilessRequestHook(request: FastifyRequest): Promise<void> {
  if (request.body === undefined && request.headers['content-type'] === undefined)
    request.headers['content-type'] = 'application/json';
}
