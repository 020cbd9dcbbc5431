import type { FastifyRequest } from 'fastify';

import { BadRequest } from '../domain-errors.js';

/**
 * Fastify's query parser keeps a malformed percent sequence (`%E0%A4%A`) as it is; the path parser refuses
 * one. A query string that does not decode is refused the same way, rather than read as something else.
 */
export async function refuseUndecodableQuery(request: FastifyRequest): Promise<void> {
  const start = request.url.indexOf('?');
  if (start < 0 || !request.url.includes('%', start)) return;
  for (const part of request.url.slice(start + 1).split(/[&=]/)) {
    try {
      decodeURIComponent(part);
    } catch {
      throw new BadRequest('The query string is not valid percent-encoding (UTF-8)');
    }
  }
}
