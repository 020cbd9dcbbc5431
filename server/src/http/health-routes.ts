import type { FastifyInstance } from 'fastify';

import { restError, sendRestError } from './error-responses.js';

/** Liveness (the process answers) and readiness (the database answers) for load balancers. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', { config: { rateLimit: false } }, async () => ({ ok: true }));
  app.get('/ready', { config: { rateLimit: false } }, async (request, reply) => {
    if (await app.database.isReachable()) return { ok: true, database: 'up' };
    return sendRestError(
      reply,
      restError('SERVICE_UNAVAILABLE', 'The database is not reachable', String(request.id)),
    );
  });
}
