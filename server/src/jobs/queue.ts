import { type QueryFilter, type Types, type UpdateQuery } from 'mongoose';

import type { AttachmentRecord } from '../modules/assets/attachment-schema.js';
import type { JobEvents } from './job-events.js';
import { promptKeyOf, type JobModel, type JobRecord } from './job-model.js';

export interface QueuePolicy {
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxRunningPerUser: number;
}

export interface JobFailure {
  code: string;
  message: string;
  retryable: boolean;
}

type NewJob = Pick<
  JobRecord,
  '_id' | 'ownerId' | 'chatId' | 'prompt' | 'params' | 'idempotencyKey' | 'userMessageId'
>;

/**
 * The MongoDB-backed job queue. Every state change is one conditional update, so any number of
 * instances can share it: a job is claimed by exactly one worker, and a worker whose lease was taken
 * over can no longer finish the job.
 */
export interface JobQueue {
  /** Adds a queued job, claimable at once. */
  enqueue(job: NewJob): Promise<JobRecord>;
  /** Claims the next job fairly (round robin over owners by queue position, none over the per-user limit). */
  claimNext(workerId: string): Promise<JobRecord | undefined>;
  /** Extends the lease (and records progress); false when the lease is no longer this worker's. */
  heartbeat(job: JobRecord, workerId: string, progress?: number): Promise<boolean>;
  succeed(
    job: JobRecord,
    workerId: string,
    outputs: AttachmentRecord[],
    computeMs: number,
  ): Promise<JobRecord | undefined>;
  /** Requeues with backoff while attempts remain and the failure is retryable; fails the job otherwise. */
  fail(
    job: JobRecord,
    workerId: string,
    failure: JobFailure,
    computeMs: number,
  ): Promise<JobRecord | undefined>;
  /** Ends a running job whose cancel was asked for. */
  finishCanceled(job: JobRecord, workerId: string): Promise<JobRecord | undefined>;
  /** Hands a running job back to the queue without counting the attempt (graceful shutdown). */
  release(job: JobRecord, workerId: string): Promise<void>;
  /** Cancels a queued job at once, or asks the worker of a running one to stop; undefined when finished. */
  requestCancel(filter: QueryFilter<JobRecord>): Promise<JobRecord | undefined>;
  /** requestCancel for every unfinished job matching the filter; answers how many. */
  cancelWhere(filter: QueryFilter<JobRecord>): Promise<number>;
  /** Jobs whose workers stopped heartbeating go back to the queue (or fail when out of attempts). */
  recoverExpiredLeases(): Promise<number>;
  /**
   * An admin's change: `queued` retries a failed or canceled job from scratch or requeues a running one,
   * `failed` ends a queued or running job with `error`, `progress` moves a running job. Undefined when the
   * job is not in a state that allows the change.
   */
  adminChange(
    jobId: Types.ObjectId,
    change: {
      status?: 'queued' | 'failed' | undefined;
      progress?: number | undefined;
      error?: { code: string; message: string } | undefined;
    },
  ): Promise<JobRecord | undefined>;
  /** Of these running jobs, the ids whose run should stop: cancel was asked for, or the job was deleted or is no longer running. */
  cancelRequestedAmong(ids: Types.ObjectId[]): Promise<string[]>;
}

function backoffMs(policy: QueuePolicy, attempts: number): number {
  const exponential = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  // Full jitter around the exponential step spreads retries of jobs that failed together.
  return Math.round(exponential * (0.5 + Math.random()));
}

/** Called once per job that reaches succeeded or failed, by whichever instance made that change. */
export type OnJobFinished = (job: JobRecord) => Promise<void>;

export function createJobQueue(
  jobs: JobModel,
  events: JobEvents,
  policy: QueuePolicy,
  onFinished: OnJobFinished,
): JobQueue {
  async function change(
    filter: QueryFilter<JobRecord>,
    update: UpdateQuery<JobRecord>,
  ): Promise<JobRecord | undefined> {
    const changed = await jobs
      .findOneAndUpdate(
        filter,
        { ...update, $inc: { ...(update.$inc ?? {}), version: 1 } },
        { returnDocument: 'after' },
      )
      .lean<JobRecord>();
    if (!changed) return undefined;
    events.publish(changed);
    const status: unknown = (update.$set as { status?: unknown } | undefined)?.status;
    // Each transition is one conditional update, so exactly one caller gets here per finished job.
    if (status === 'succeeded' || status === 'failed') await onFinished(changed);
    return changed;
  }

  const leased = (job: JobRecord, workerId: string): QueryFilter<JobRecord> => ({
    _id: job._id,
    status: 'running',
    leaseOwner: workerId,
  });
  const finished = (now: Date, startedAt: Date | null | undefined) => ({
    finishedAt: now,
    leaseOwner: null,
    leaseExpiresAt: null,
    computeMs: startedAt ? now.getTime() - startedAt.getTime() : null,
  });

  async function tryClaim(
    workerId: string,
    excludedOwners: Types.ObjectId[],
  ): Promise<JobRecord | undefined> {
    const now = new Date();
    const claimed = await jobs
      .findOneAndUpdate(
        {
          status: 'queued',
          availableAt: { $lte: now },
          ...(excludedOwners.length > 0 ? { ownerId: { $nin: excludedOwners } } : {}),
        },
        {
          $set: {
            status: 'running',
            leaseOwner: workerId,
            claimedBy: workerId,
            leaseExpiresAt: new Date(now.getTime() + policy.leaseMs),
            startedAt: now,
            progress: 0,
          },
          $inc: { attempts: 1, version: 1 },
        },
        { sort: { fairRank: 1, createdAt: 1 }, returnDocument: 'after' },
      )
      .lean<JobRecord>();
    return claimed ?? undefined;
  }

  return {
    async enqueue(job) {
      const fairRank = await jobs.countDocuments({
        ownerId: job.ownerId,
        status: { $in: ['queued', 'running'] },
      });
      const created = (
        await jobs.create({
          ...job,
          promptKey: promptKeyOf(job.prompt),
          status: 'queued',
          fairRank,
          maxAttempts: policy.maxAttempts,
          availableAt: new Date(),
        })
      ).toObject() as JobRecord;
      events.publish(created);
      return created;
    },

    async claimNext(workerId) {
      const running = await jobs.aggregate<{ _id: Types.ObjectId; count: number }>([
        { $match: { status: 'running' } },
        { $group: { _id: '$ownerId', count: { $sum: 1 } } },
      ]);
      const saturated = running
        .filter((owner) => owner.count >= policy.maxRunningPerUser)
        .map((owner) => owner._id);
      const claimed = await tryClaim(workerId, saturated);
      if (!claimed) return undefined;
      // Two instances may claim for one owner at the same moment; the one over the limit hands it back.
      const ownerRunning = await jobs.countDocuments({ ownerId: claimed.ownerId, status: 'running' });
      if (ownerRunning > policy.maxRunningPerUser) {
        await jobs.updateOne(leased(claimed, workerId), {
          $set: { status: 'queued', leaseOwner: null, leaseExpiresAt: null, startedAt: null },
          $inc: { attempts: -1, version: 1 },
        });
        return undefined;
      }
      events.publish(claimed);
      return claimed;
    },

    async heartbeat(job, workerId, progress) {
      const update: UpdateQuery<JobRecord> = {
        $set: {
          leaseExpiresAt: new Date(Date.now() + policy.leaseMs),
          ...(progress === undefined ? {} : { progress }),
        },
      };
      if (progress === undefined)
        return (await jobs.updateOne(leased(job, workerId), update)).matchedCount === 1;
      return (await change(leased(job, workerId), update)) !== undefined;
    },

    succeed(job, workerId, outputs, computeMs) {
      const now = new Date();
      return change(leased(job, workerId), {
        $set: {
          status: 'succeeded',
          progress: 100,
          outputs,
          error: null,
          ...finished(now, job.startedAt),
          computeMs,
        },
      });
    },

    fail(job, workerId, failure, computeMs) {
      const now = new Date();
      const error = { code: failure.code, message: failure.message };
      if (failure.retryable && job.attempts < job.maxAttempts) {
        return change(leased(job, workerId), {
          $set: {
            status: 'queued',
            error,
            progress: 0,
            leaseOwner: null,
            leaseExpiresAt: null,
            availableAt: new Date(now.getTime() + backoffMs(policy, job.attempts)),
          },
        });
      }
      return change(leased(job, workerId), {
        $set: { status: 'failed', error, ...finished(now, job.startedAt), computeMs },
      });
    },

    finishCanceled(job, workerId) {
      return change(leased(job, workerId), {
        $set: {
          status: 'canceled',
          error: { code: 'CANCELED', message: 'Canceled on request' },
          ...finished(new Date(), job.startedAt),
        },
      });
    },

    async release(job, workerId) {
      await change(leased(job, workerId), {
        $set: { status: 'queued', leaseOwner: null, leaseExpiresAt: null, startedAt: null, progress: 0 },
        $inc: { attempts: -1 },
      });
    },

    async requestCancel(filter) {
      const canceled = await change(
        { ...filter, status: 'queued' },
        {
          $set: {
            status: 'canceled',
            cancelRequested: true,
            error: { code: 'CANCELED', message: 'Canceled on request' },
            finishedAt: new Date(),
          },
        },
      );
      if (canceled) return canceled;
      const asked = await change({ ...filter, status: 'running' }, { $set: { cancelRequested: true } });
      if (asked) return asked;
      // It may have moved from queued to running between the two updates.
      return change(
        { ...filter, status: 'running', cancelRequested: false },
        { $set: { cancelRequested: true } },
      );
    },

    async cancelWhere(filter) {
      const unfinished = await jobs
        .find({ ...filter, status: { $in: ['queued', 'running'] } }, { _id: 1 })
        .lean<Array<Pick<JobRecord, '_id'>>>();
      let count = 0;
      for (const job of unfinished) if (await this.requestCancel({ _id: job._id })) count += 1;
      return count;
    },

    async recoverExpiredLeases() {
      const expired = await jobs
        .find({ status: 'running', leaseExpiresAt: { $lt: new Date() } })
        .lean<JobRecord[]>();
      let recovered = 0;
      for (const job of expired) {
        const stillExpired: QueryFilter<JobRecord> = {
          _id: job._id,
          status: 'running',
          leaseOwner: job.leaseOwner,
          leaseExpiresAt: { $lt: new Date() },
        };
        const outcome = job.cancelRequested
          ? await change(stillExpired, {
              $set: {
                status: 'canceled',
                error: { code: 'CANCELED', message: 'Canceled on request' },
                ...finished(new Date(), job.startedAt),
              },
            })
          : job.attempts >= job.maxAttempts
            ? await change(stillExpired, {
                $set: {
                  status: 'failed',
                  error: {
                    code: 'WORKER_LOST',
                    message: 'The worker running this job stopped responding, and no attempts are left',
                  },
                  ...finished(new Date(), job.startedAt),
                },
              })
            : await change(stillExpired, {
                $set: {
                  status: 'queued',
                  leaseOwner: null,
                  leaseExpiresAt: null,
                  availableAt: new Date(),
                  progress: 0,
                  error: {
                    code: 'WORKER_LOST',
                    message: 'The worker running this job stopped responding; retrying',
                  },
                },
              });
        if (outcome) recovered += 1;
      }
      return recovered;
    },

    async adminChange(jobId, { status, progress, error }) {
      const now = new Date();
      const unleased = { leaseOwner: null, leaseExpiresAt: null };
      if (status === 'queued') {
        const retried = await change(
          { _id: jobId, status: { $in: ['failed', 'canceled'] } },
          {
            $set: {
              status: 'queued',
              attempts: 0,
              error: null,
              progress: 0,
              availableAt: now,
              cancelRequested: false,
              startedAt: null,
              finishedAt: null,
              computeMs: null,
              ...unleased,
            },
          },
        );
        return (
          retried ??
          change(
            { _id: jobId, status: 'running' },
            { $set: { status: 'queued', progress: 0, availableAt: now, ...unleased } },
          )
        );
      }
      if (status === 'failed') {
        return change(
          { _id: jobId, status: { $in: ['queued', 'running'] } },
          {
            $set: {
              status: 'failed',
              error: error ?? { code: 'FAILED_BY_ADMIN', message: 'An administrator stopped this job' },
              finishedAt: now,
              ...unleased,
            },
          },
        );
      }
      return change({ _id: jobId, status: 'running' }, { $set: { progress } });
    },

    async cancelRequestedAmong(ids) {
      if (ids.length === 0) return [];
      const found = await jobs
        .find({ _id: { $in: ids } }, { cancelRequested: 1, status: 1 })
        .lean<Array<Pick<JobRecord, '_id' | 'cancelRequested' | 'status'>>>();
      const keepGoing = new Set(
        found
          .filter((job) => !job.cancelRequested && job.status === 'running')
          .map((job) => job._id.toHexString()),
      );
      return ids.map((id) => id.toHexString()).filter((id) => !keepGoing.has(id));
    },
  };
}
