import { Counter, Histogram, type Registry } from 'prom-client';

import type { JobRecord } from '../jobs/job-model.js';
import type { RunOutcome } from '../jobs/worker-pool.js';

/** Runs can last as long as JOB_TIMEOUT_MS (15 minutes by default). */
const RUN_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800];

/**
 * Counts and times the runs this instance's workers end, by the job's model server and the run's outcome.
 * A job's model server was checked against the configured ones when it was queued, so its label is bounded.
 */
export function recordJobRuns(
  registry: Registry,
): (job: JobRecord, outcome: RunOutcome, durationMs: number) => void {
  const durations = new Histogram({
    name: 'gen3d_job_run_duration_seconds',
    help: "How long this instance's job runs took, by model server and outcome",
    labelNames: ['model_server', 'outcome'] as const,
    buckets: RUN_BUCKETS_SECONDS,
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'gen3d_job_runs_total',
    help: "Job runs this instance's workers ended, by model server and outcome (succeeded, failed, retried, canceled, released, lost, unrecorded)",
    labelNames: ['model_server', 'outcome'] as const,
    registers: [registry],
  });
  return (job, outcome, durationMs) => {
    const labels = { model_server: job.params.modelServer, outcome };
    durations.observe(labels, durationMs / 1000);
    outcomes.inc(labels);
  };
}
