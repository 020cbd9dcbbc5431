import { Types } from 'mongoose';

import type { AnalyticsRollups } from '../modules/analytics/rollups.js';
import type { AttachmentRecord } from '../modules/assets/attachment-schema.js';
import type { JobCancellation } from './cancellation.js';
import type { JobEvents } from './job-events.js';
import { promptKeyOf, type JobModel, type JobRecord } from './job-model.js';
import * as transitions from './transitions.js';
import { applyTransition, type JobTransition, type LeasedRun } from './transitions.js';

export interface QueuePolicy {
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxRunningPerUser: number;
}

export interface JobFailure {
  code: string;
  /** What the job's owner reads: plain words, no internal hosts or upstream answers. */
  message: string;
  /** What went wrong in full, for the log only: may name hosts and quote a model server's answer. */
  detail?: string | undefined;
  retryable: boolean;
}

type NewJob = Pick<
  JobRecord,
  '_id' | 'ownerId' | 'chatId' | 'prompt' | 'params' | 'idempotencyKey' | 'userMessageId' | 'requestId'
> &
  // A generation's input (text by default); a post-processing job's kind and operation.
  Partial<Pick<JobRecord, 'inputType' | 'kind' | 'postprocess'>>;

/**
 * The MongoDB-backed job queue. Every state change is one conditional update, so any number of
 * instances can share it: a job is claimed by exactly one worker, and a worker whose lease was taken
 * over can no longer finish the job.
 */
export interface JobQueue extends JobCancellation {
  /** Adds a queued job, claimable at once. */
  enqueue(job: NewJob): Promise<JobRecord>;
  /**
   * Claims the next job fairly (round robin over owners by queue position, none over the per-user limit).
   * Claims made one after another (a worker pool filling its free slots) pass the same `round`, so the
   * owners' running jobs are read once for all of them.
   */
  claimNext(workerId: string, round?: ClaimRound): Promise<JobRecord | undefined>;
  /** Extends the lease (and records progress); false when the lease is no longer this worker's. */
  heartbeat(job: JobRecord, workerId: string, progress?: number): Promise<boolean>;
  succeed(
    job: JobRecord,
    workerId: string,
    outputs: AttachmentRecord[],
    computeMs: number,
  ): Promise<JobRecord | undefined>;
  /**
   * After a success write that failed, so whether it happened is unknown: hands the run back as `fail`
   * does, unless the write did happen. `recorded` says which; `job` is undefined when the run was lost.
   */
  settleUnrecordedSuccess(
    job: JobRecord,
    workerId: string,
    failure: JobFailure,
    computeMs: number,
  ): Promise<{ job: JobRecord | undefined; recorded: boolean }>;
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

/** Running jobs per owner (hex id), as read at the start of a round of claims and counted since. */
export interface ClaimRound {
  running?: Map<string, number>;
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
  {
    cancellation,
    onFinished,
    rollups,
  }: { cancellation: JobCancellation; onFinished: OnJobFinished; rollups: AnalyticsRollups },
): JobQueue {
  /**
   * Applies a transition, counts it in the analytics rollups and publishes its result; a job reaching
   * succeeded or failed is announced. `before` is the job as read when the transition's filter pins it.
   */
  async function change(transition: JobTransition, before?: JobRecord): Promise<JobRecord | undefined> {
    const changed = await applyTransition(jobs, transition);
    if (!changed) return undefined;
    await rollups.jobChanged(transition, changed, before);
    events.publish(changed);
    // Each transition is one conditional update from an unfinished state, so exactly one caller gets
    // here per finished job.
    if (changed.status === 'succeeded' || changed.status === 'failed') await onFinished(changed);
    return changed;
  }

  const run = (job: JobRecord, workerId: string): LeasedRun => ({ job, workerId });

  function fail(job: JobRecord, workerId: string, failure: JobFailure, computeMs: number) {
    const now = new Date();
    const error = { code: failure.code, message: failure.message };
    if (failure.retryable && job.attempts < job.maxAttempts) {
      const retryAt = new Date(now.getTime() + backoffMs(policy, job.attempts));
      return change(transitions.retryLater(run(job, workerId), { error, retryAt }));
    }
    return change(transitions.fail(run(job, workerId), { now, error, computeMs }));
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
      await rollups.jobCreated(created);
      events.publish(created);
      return created;
    },

    async claimNext(workerId, round = {}) {
      if (!round.running) {
        const running = await jobs.aggregate<{ _id: Types.ObjectId; count: number }>([
          { $match: { status: 'running' } },
          { $group: { _id: '$ownerId', count: { $sum: 1 } } },
        ]);
        round.running = new Map(running.map((owner) => [owner._id.toHexString(), owner.count]));
      }
      const saturated = [...round.running]
        .filter(([, count]) => count >= policy.maxRunningPerUser)
        .map(([ownerId]) => new Types.ObjectId(ownerId));
      const claim = transitions.claim({
        workerId,
        now: new Date(),
        leaseMs: policy.leaseMs,
        excludedOwners: saturated,
      });
      const claimed = await applyTransition(jobs, claim);
      if (!claimed) return undefined;
      await rollups.jobChanged(claim, claimed);
      // Two instances may claim for one owner at the same moment; the one over the limit hands it back
      // before anyone is told it ran.
      const ownerRunning = await jobs.countDocuments({ ownerId: claimed.ownerId, status: 'running' });
      // A stale count (a run ended since) only holds an owner back until the next round.
      round.running.set(claimed.ownerId.toHexString(), ownerRunning);
      if (ownerRunning > policy.maxRunningPerUser) {
        const release = transitions.release(run(claimed, workerId));
        const released = await applyTransition(jobs, release);
        if (released) await rollups.jobChanged(release, released);
        return undefined;
      }
      events.publish(claimed);
      return claimed;
    },

    async heartbeat(job, workerId, progress) {
      const renewal = { now: new Date(), leaseMs: policy.leaseMs };
      if (progress === undefined)
        return (await applyTransition(jobs, transitions.renewLease(run(job, workerId), renewal))) !== null;
      return (
        (await change(transitions.recordProgress(run(job, workerId), { ...renewal, progress }))) !== undefined
      );
    },

    succeed(job, workerId, outputs, computeMs) {
      return change(transitions.succeed(run(job, workerId), { now: new Date(), outputs, computeMs }));
    },

    async settleUnrecordedSuccess(job, workerId, failure, computeMs) {
      // Handing back is conditional on the run still holding the job, so a success write that lands late
      // can no longer apply: the outcome is decided by whichever of the two writes happened.
      const handedBack = await fail(job, workerId, failure, computeMs);
      if (handedBack) return { job: handedBack, recorded: false };
      const succeeded = await jobs
        .findOne({ _id: job._id, status: 'succeeded', claimedBy: workerId, startedAt: job.startedAt })
        .lean<JobRecord>();
      if (!succeeded) return { job: undefined, recorded: false };
      // The write happened but its caller heard a failure, so nobody announced the job yet.
      events.publish(succeeded);
      await onFinished(succeeded);
      return { job: succeeded, recorded: true };
    },

    fail,

    finishCanceled(job, workerId) {
      return change(transitions.finishCanceled(run(job, workerId), new Date()));
    },

    async release(job, workerId) {
      await change(transitions.release(run(job, workerId)));
    },

    requestCancel: cancellation.requestCancel,
    cancelWhere: cancellation.cancelWhere,

    async recoverExpiredLeases() {
      const expired = await jobs
        .find({ status: 'running', leaseExpiresAt: { $lt: new Date() } })
        .lean<JobRecord[]>();
      let recovered = 0;
      for (const job of expired)
        if (await change(transitions.recoverExpired(job, new Date()))) recovered += 1;
      return recovered;
    },

    async adminChange(jobId, { status, progress, error }) {
      const now = new Date();
      const candidates =
        status === 'queued'
          ? [transitions.adminRetry(jobId, now), transitions.adminRequeue(jobId, now)]
          : status === 'failed'
            ? [transitions.adminFail(jobId, now, error)]
            : progress === undefined
              ? []
              : [transitions.adminSetProgress(jobId, progress)];
      if (candidates.length === 0) return undefined;
      // Admin changes start from several states, so the job is read first and the change pinned to the
      // version read: the rollups then know what it was. A change made in between means reading again.
      for (;;) {
        const before = await jobs.findById(jobId).lean<JobRecord>();
        if (!before) return undefined;
        for (const transition of candidates) {
          const pinned = { ...transition, filter: { ...transition.filter, version: before.version } };
          const changed = await change(pinned, before);
          if (changed) return changed;
        }
        const current = await jobs.findById(jobId, { version: 1 }).lean<Pick<JobRecord, 'version'>>();
        if (!current || current.version === before.version) return undefined;
      }
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
