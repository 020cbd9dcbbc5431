import { Gauge, type Registry } from 'prom-client';

/** What the gauges read from this instance's worker pool. */
export interface WorkerPoolLoad {
  readonly running: number;
  readonly size: number;
}

/** Busy workers, pool size and their ratio for this instance, read at each scrape. */
export function watchWorkerPool(registry: Registry, pool: WorkerPoolLoad): void {
  new Gauge({
    name: 'gen3d_workers_busy',
    help: "Jobs this instance's workers are running",
    registers: [registry],
    collect() {
      this.set(pool.running);
    },
  });
  new Gauge({
    name: 'gen3d_workers_size',
    help: "Jobs this instance's workers may run at once (WORKER_CONCURRENCY)",
    registers: [registry],
    collect() {
      this.set(pool.size);
    },
  });
  new Gauge({
    name: 'gen3d_workers_utilisation_ratio',
    help: 'Busy workers over pool size for this instance (0 when it runs no workers)',
    registers: [registry],
    collect() {
      this.set(pool.size === 0 ? 0 : pool.running / pool.size);
    },
  });
}
