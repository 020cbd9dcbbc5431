import type { FastifyInstance, FastifyRequest } from 'fastify';

import { DomainError, RateLimited } from '../domain-errors.js';

// Read by the batch limit, the input checks and the metrics of every tRPC request: parsed once.
const trpcUrls = new WeakMap<FastifyRequest, URL>();

/** The request's URL as tRPC reads it (its path and every query parameter). */
export function trpcUrlOf(request: FastifyRequest): URL {
  let url = trpcUrls.get(request);
  if (url === undefined) {
    url = new URL(request.url, 'http://trpc.invalid');
    trpcUrls.set(request, url);
  }
  return url;
}

/** The procedures a tRPC request calls, in order: a batch (`?batch=1`, as tRPC decides) names them comma-separated. */
export function procedurePathsIn(request: FastifyRequest, prefix: string): string[] {
  const url = trpcUrlOf(request);
  const names = url.pathname.slice(prefix.length + 1);
  let decoded = names;
  try {
    decoded = decodeURIComponent(names);
  } catch {
    // tRPC refuses such a path itself; what counts here is which calls it names.
  }
  return url.searchParams.get('batch') === '1' ? decoded.split(',') : [decoded];
}

/**
 * Makes a tRPC batch cost what it does: at most `maxBatchSize` calls, and every call after the first
 * counted against the global request limit as a request of its own (the limiter counted the HTTP request
 * once). Per-procedure limits and quotas already run once per call.
 */
export function limitTrpcBatches(app: FastifyInstance, prefix: string, maxBatchSize: number): void {
  const countOneMore = app.createRateLimit();
  const countCallsAfterFirst = async (request: FastifyRequest, calls: number): Promise<void> => {
    for (let call = 1; call < calls; call += 1) {
      const decision = await countOneMore(request);
      if (!decision.isAllowed && decision.isExceeded)
        throw new RateLimited(
          decision.ttlInSeconds,
          `Too many requests; this batch of ${calls} calls counts as ${calls} requests`,
        );
    }
  };
  // A callback hook: most requests carry one call and pass without a promise.
  app.addHook('preHandler', (request, _reply, done) => {
    const calls = procedurePathsIn(request, prefix).length;
    if (calls > maxBatchSize)
      return done(
        new DomainError(
          'BATCH_TOO_LARGE',
          `A batch may carry at most ${maxBatchSize} calls; this one carries ${calls}`,
        ),
      );
    if (calls <= 1) return done();
    countCallsAfterFirst(request, calls).then(() => done(), done);
  });
}
