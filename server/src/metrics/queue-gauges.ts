import type { FastifyBaseLogger } from 'fastify';
import { Gauge, type Registry } from 'prom-client';

import { JobStatuses } from '@gen3d/shared';

import type { JobModel } from '../jobs/job-model.js';

/**
 * Jobs in the shared queue by status, counted in the database at each scrape: every instance reports the
 * same figures, so dashboards take one instance's value (max), not the sum. A failed count leaves the
 * gauge empty for that scrape instead of failing the whole scrape.
 */
export function watchQueueDepth(registry: Registry, jobs: JobModel, log: FastifyBaseLogger): void {
  new Gauge({
    name: 'gen3d_jobs',
    help: 'Jobs in the shared queue (all instances) by status, counted in the database at scrape time',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        // One index-backed count per status is cheaper than grouping the whole collection.
        const counts = await Promise.all(JobStatuses.map((status) => jobs.countDocuments({ status })));
        JobStatuses.forEach((status, index) => this.set({ status }, counts[index] ?? 0));
      } catch (error) {
        log.warn({ err: error }, 'counting jobs for /metrics failed');
      }
    },
  });
}
