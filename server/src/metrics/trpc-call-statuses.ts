import type { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { FastifyRequest } from 'fastify';

interface CallFailure {
  /** Undefined when tRPC could not tie the error to one call (the whole request was refused). */
  path: string | undefined;
  status: number;
}

/**
 * The HTTP status of each call a tRPC request carried. tRPC answers a batch with one status for all its
 * calls, and reports each failed call through `onError`; the calls it did not report succeeded.
 */
export class TrpcCallStatuses {
  private readonly failures = new WeakMap<FastifyRequest, CallFailure[]>();

  /** For tRPC's `onError`. */
  recordFailure(request: FastifyRequest, path: string | undefined, error: TRPCError): void {
    const failures = this.failures.get(request) ?? [];
    failures.push({ path, status: getHTTPStatusCodeFromError(error) });
    this.failures.set(request, failures);
  }

  /** One status per call of `paths`, in order; `replyStatus` is what the request was answered with. */
  statusesOf(request: FastifyRequest, paths: readonly string[], replyStatus: number): number[] {
    const failures = this.failures.get(request) ?? [];
    // Refused before tRPC ran (rate limit, batch size, input shape), or a single call: the reply says it all.
    if (paths.length === 1 || failures.length === 0)
      return paths.map(() => (replyStatus >= 400 ? replyStatus : 200));
    const wholeRequest = failures.find((failure) => failure.path === undefined);
    return paths.map((path) => {
      const index = failures.findIndex((failure) => failure.path === path);
      if (index < 0) return wholeRequest?.status ?? 200;
      const [failure] = failures.splice(index, 1);
      return (failure as CallFailure).status;
    });
  }
}
