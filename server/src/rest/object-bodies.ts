import type { FastifyRequest } from 'fastify';

import { DomainError } from '../domain-errors.js';

/** REST bodies are JSON objects; trpc-to-openapi would spread `true`, `1` or `null` into an empty input. */
export async function objectBodyHook(request: FastifyRequest): Promise<void> {
  const { body } = request;
  // Other content types are the projection's to refuse (415).
  if (body === undefined || !/^application\/json\b/i.test(request.headers['content-type'] ?? '')) return;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new DomainError(
      'MALFORMED_BODY',
      `The body must be a JSON object, not ${body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`}`,
    );
  }
}
