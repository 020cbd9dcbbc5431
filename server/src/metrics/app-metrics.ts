import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

import type { JobModel, JobRecord } from '../jobs/job-model.js';
import type { RunOutcome } from '../jobs/worker-pool.js';
import { recordJobRuns } from './job-run-metrics.js';
import { watchMeshThreads, type MeshThreadLoad } from './mesh-thread-metrics.js';
import { watchQueueDepth } from './queue-gauges.js';
import { createMetricsRegistry } from './registry.js';
import { recordRequestDurations } from './request-metrics.js';
import type { RestOperation } from './route-labels.js';
import { TrpcCallStatuses } from './trpc-call-statuses.js';
import { watchWorkerPool, type WorkerPoolLoad } from './worker-gauges.js';

/** One app's metrics: what the app feeds them, and the registry `/metrics` reads. */
export interface AppMetrics {
  readonly registry: Registry;
  /** Fed by tRPC's `onError`, so each call of a batch is counted with its own status. */
  readonly trpcCalls: TrpcCallStatuses;
  /** For the worker pool: a run ended. */
  readonly onJobRunEnded: (job: JobRecord, outcome: RunOutcome, durationMs: number) => void;
  /** Adds the metrics read at scrape time: this instance's workers and mesh threads, and the shared queue. */
  watch(
    sources: { workers: WorkerPoolLoad; meshes: MeshThreadLoad; jobs: JobModel },
    log: FastifyBaseLogger,
  ): void;
}

/** Starts timing the app's requests at once; the rest is fed in as the app is assembled. */
export function createAppMetrics(
  app: FastifyInstance,
  routes: {
    trpcPrefix: string;
    procedurePaths: readonly string[];
    restBasePath: string;
    restOperations: readonly RestOperation[];
  },
): AppMetrics {
  const registry = createMetricsRegistry();
  const trpcCalls = new TrpcCallStatuses();
  recordRequestDurations(app, {
    registry,
    trpc: { prefix: routes.trpcPrefix, procedurePaths: routes.procedurePaths, statuses: trpcCalls },
    rest: { basePath: routes.restBasePath, operations: routes.restOperations },
  });
  return {
    registry,
    trpcCalls,
    onJobRunEnded: recordJobRuns(registry),
    watch({ workers, meshes, jobs }, log) {
      watchWorkerPool(registry, workers);
      watchMeshThreads(registry, meshes);
      watchQueueDepth(registry, jobs, log);
    },
  };
}
