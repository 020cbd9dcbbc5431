import type { FastifyRequest } from 'fastify';

/**
 * trpc-to-openapi reads a DELETE's input from the query string only (OpenAPI 3.0 gives DELETE no body),
 * but the REST contract lets clients send fields such as `confirmEmail` in a JSON body. Those fields are read
 * as query parameters; a parameter in the URL wins over the same field in the body.
 */
export async function deleteBodyHook(request: FastifyRequest): Promise<void> {
  if (
    request.method !== 'DELETE' ||
    request.body === null ||
    typeof request.body !== 'object' ||
    Array.isArray(request.body)
  )
    return;
  const query = (request.query ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(request.body as Record<string, unknown>)) {
    if (
      query[key] === undefined &&
      (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    )
      query[key] = String(value);
  }
  request.query = query;
}
