import { Counter, Gauge, type Registry } from 'prom-client';

/** What the metrics read from this instance's mesh worker threads. */
export interface MeshThreadLoad {
  readonly threads: number;
  readonly threadsStarted: number;
}

/**
 * This instance's mesh worker threads, read at each scrape: how many run, and how many were started. A
 * thread is replaced when a task breaks its time or memory budget or a post-processing is cancelled, and
 * ends after a minute idle, so a fast-climbing count means threads are being thrown away.
 */
export function watchMeshThreads(registry: Registry, meshes: MeshThreadLoad): void {
  new Gauge({
    name: 'gen3d_mesh_threads',
    help: 'Mesh worker threads this instance runs now (MESH_WORKERS at most)',
    registers: [registry],
    collect() {
      this.set(meshes.threads);
    },
  });
  new Counter({
    name: 'gen3d_mesh_threads_started_total',
    help: 'Mesh worker threads this instance started',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(meshes.threadsStarted);
    },
  });
}
