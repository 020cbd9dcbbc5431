import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

import type { JobModel, JobRecord } from '../jobs/job-model.js';
import type { RunOutcome } from '../jobs/worker-pool.js';
import { allProcedureMetas, allProcedurePaths } from '../trpc/router.js';
import { recordJobRuns } from './job-run-metrics.js';
import { watchQueueDepth } from './queue-gauges.js';
import { createMetricsRegistry } from './registry.js';
import { recordRequestDurations } from './request-metrics.js';
import { TrpcCallStatuses } from './trpc-call-statuses.js';
import { watchWorkerPool, type WorkerPoolLoad } from './worker-gauges.js';

/** One app's metrics: what the app feeds them, and the registry `/metrics` reads. */
export interface AppMetrics {
  readonly registry: Registry;
  /** Fed by tRPC's `onError`, so each call of a batch is counted with its own status. */
  readonly trpcCalls: TrpcCallStatuses;
  /** For the worker pool: a run ended. */
  readonly onJobRunEnded: (job: JobRecord, outcome: RunOutcome, durationMs: number) => void;
  /** Adds the gauges read at scrape time: this instance's workers and the shared queue. */
  watch(workers: WorkerPoolLoad, jobs: JobModel, log: FastifyBaseLogger): void;
}

/** Starts timing the app's requests at once; the rest is fed in as the app is assembled. */
export function createAppMetrics(
  app: FastifyInstance,
  mounts: { trpcPrefix: string; restBasePath: string },
): AppMetrics {
  const registry = createMetricsRegistry();
  const trpcCalls = new TrpcCallStatuses();
  const operations = allProcedureMetas().flatMap((meta) =>
    meta.openapi ? [{ method: meta.openapi.method, path: meta.openapi.path }] : [],
  );
  recordRequestDurations(app, {
    registry,
    trpc: { prefix: mounts.trpcPrefix, procedurePaths: allProcedurePaths(), statuses: trpcCalls },
    rest: { basePath: mounts.restBasePath, operations },
  });
  return {
    registry,
    trpcCalls,
    onJobRunEnded: recordJobRuns(registry),
    watch(workers, jobs, log) {
      watchWorkerPool(registry, workers);
      watchQueueDepth(registry, jobs, log);
    },
  };
}
