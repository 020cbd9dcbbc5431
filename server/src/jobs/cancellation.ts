import type { QueryFilter } from 'mongoose';

import type { AnalyticsRollups } from '../modules/analytics/rollups.js';
import type { JobEvents } from './job-events.js';
import type { JobModel, JobRecord } from './job-model.js';
import * as transitions from './transitions.js';
import { applyTransition, type JobTransition } from './transitions.js';

/**
 * Stopping jobs: a queued job is canceled at once, a running one is asked to stop (its worker ends it).
 * Cancellation never finishes a job as succeeded or failed, so it needs nothing of what announces those.
 */
export interface JobCancellation {
  /** Cancels a queued job at once, or asks the worker of a running one to stop; undefined when finished. */
  requestCancel(filter: QueryFilter<JobRecord>): Promise<JobRecord | undefined>;
  /** requestCancel for every unfinished job matching the filter; answers how many. */
  cancelWhere(filter: QueryFilter<JobRecord>): Promise<number>;
}

export function createJobCancellation(
  jobs: JobModel,
  events: JobEvents,
  rollups: AnalyticsRollups,
): JobCancellation {
  async function change(transition: JobTransition): Promise<JobRecord | undefined> {
    const changed = await applyTransition(jobs, transition);
    if (!changed) return undefined;
    await rollups.jobChanged(transition, changed);
    events.publish(changed);
    return changed;
  }

  async function requestCancel(filter: QueryFilter<JobRecord>): Promise<JobRecord | undefined> {
    const canceled = await change(transitions.cancelQueued(filter, new Date()));
    if (canceled) return canceled;
    const asked = await change(transitions.askToCancel(filter));
    if (asked) return asked;
    // Between the two updates the job may have gone back to the queue and been claimed again.
    return change(transitions.askToCancel({ ...filter, cancelRequested: false }));
  }

  return {
    requestCancel,
    async cancelWhere(filter) {
      const unfinished = await jobs
        .find({ ...filter, status: { $in: ['queued', 'running'] } }, { _id: 1 })
        .lean<Array<Pick<JobRecord, '_id'>>>();
      let count = 0;
      for (const job of unfinished) if (await requestCancel({ _id: job._id })) count += 1;
      return count;
    },
  };
}
