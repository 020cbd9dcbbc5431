import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

import { procedurePathsIn } from '../http/trpc-batches.js';
import { procedureLabeller, restRouteLabeller, UNMATCHED_ROUTE, type RestOperation } from './route-labels.js';
import type { TrpcCallStatuses } from './trpc-call-statuses.js';

export interface RequestMetricsOptions {
  registry: Registry;
  /** Where tRPC is mounted (`/trpc`) and the procedures its router has. */
  trpc: { prefix: string; procedurePaths: readonly string[]; statuses: TrpcCallStatuses };
  /** Where the REST projection is mounted (`/api`) and the operations it declares. */
  rest: { basePath: string; operations: readonly RestOperation[] };
}

/**
 * Times every HTTP request by route pattern, method and status, and every tRPC call by procedure:
 * the calls of a batch each count once, with the batch's duration.
 */
export function recordRequestDurations(app: FastifyInstance, options: RequestMetricsOptions): void {
  const { registry, trpc, rest } = options;
  const requests = new Histogram({
    name: 'gen3d_http_request_duration_seconds',
    help: 'HTTP requests by route pattern (unmatched: no route), method and status; tRPC requests count here once per request',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const calls = new Histogram({
    name: 'gen3d_trpc_call_duration_seconds',
    help: 'tRPC procedure calls by procedure path (unknown: no such procedure), method and status; each call of a batch counts, with the batch duration',
    labelNames: ['procedure', 'method', 'status'] as const,
    registers: [registry],
  });
  const trpcRoute = `${trpc.prefix}/:path`;
  const restRoute = `${rest.basePath}/*`;
  const restLabel = restRouteLabeller(rest.basePath, rest.operations);
  const procedureLabel = procedureLabeller(trpc.procedurePaths);

  const routeOf = (request: FastifyRequest): string => {
    const pattern = request.routeOptions.url;
    if (pattern === undefined) return UNMATCHED_ROUTE;
    // The REST projection answers every path under its base itself; its operations are the routes.
    return pattern === restRoute ? restLabel(request.method, request.url) : pattern;
  };
  // Read as the request arrives: the REST projection rewrites the request's URL while it handles it.
  const routes = new WeakMap<FastifyRequest, string>();
  // Callback hooks: an async one costs a promise per request.
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    routes.set(request, routeOf(request));
    done();
  });

  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    observe(request, reply);
    done();
  });

  function observe(request: FastifyRequest, reply: FastifyReply): void {
    const seconds = reply.elapsedTime / 1000;
    const method = request.method;
    const route = routes.get(request) ?? routeOf(request);
    requests.observe({ route, method, status: String(reply.statusCode) }, seconds);
    if (route !== trpcRoute) return;
    const paths = procedurePathsIn(request, trpc.prefix);
    const statuses = trpc.statuses.statusesOf(request, paths, reply.statusCode);
    paths.forEach((path, index) => {
      calls.observe({ procedure: procedureLabel(path), method, status: String(statuses[index]) }, seconds);
    });
  }
}
