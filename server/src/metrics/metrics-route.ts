import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

import { restError } from '../http/error-responses.js';
import { sameSecret } from '../infra/secret-tokens.js';

export interface MetricsRouteOptions {
  registry: Registry;
  /** When set, scrapers send `Authorization: Bearer <token>`; unset, the endpoint is open. */
  token: string | undefined;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * `GET /metrics` in the Prometheus text format. Not part of the API (no OpenAPI entry), and not counted
 * by the global rate limit, so a scraper never meets a 429; the token is what guards it.
 */
export async function metricsRoute(app: FastifyInstance, { registry, token }: MetricsRouteOptions) {
  app.get('/metrics', { config: { rateLimit: false } }, async (request, reply) => {
    if (token !== undefined) {
      const given = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (given === undefined || !sameSecret(given, token))
        return reply
          .status(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .send(
            restError(
              'UNAUTHORIZED',
              'Reading metrics needs Authorization: Bearer <METRICS_TOKEN>',
              String(request.id),
            ),
          );
    }
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
