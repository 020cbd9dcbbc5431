import type { TJobKind } from '@gen3d/shared';

import type { AttachmentRecord } from '../modules/assets/attachment-schema.js';
import type { JobRecord } from './job-model.js';
import type { JobProcessor } from './worker-pool.js';

/** The processor of a job: by its kind; records written before kinds existed are generations. */
const kindOf = (job: JobRecord): TJobKind => (job.kind ?? 'generate') as TJobKind;

/**
 * One processor for the worker pool that hands each job to its kind's processor. Outputs to discard are
 * assets whatever the kind, so the generation processor's `discard` (the pool's default) removes them.
 */
export function processorByKind(processors: Record<TJobKind, JobProcessor>): JobProcessor {
  return {
    process: (job, run) => processors[kindOf(job)].process(job, run),
    discard: (outputs: AttachmentRecord[]) => processors.generate.discard(outputs),
    describeFailure: (error, job) => processors[kindOf(job)].describeFailure(error, job),
  };
}
