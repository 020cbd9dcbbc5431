import type { QueryFilter, SortOrder, Types, UpdateQuery } from 'mongoose';

import type { AttachmentRecord } from '../modules/assets/attachment-schema.js';
import type { JobModel, JobRecord } from './job-model.js';

/**
 * One state change of a job: a conditional update that applies only while the job is in the state the
 * filter names. A caller whose view is stale (its lease expired, the job was canceled or requeued) finds
 * no match and changes nothing.
 */
export interface JobTransition {
  filter: QueryFilter<JobRecord>;
  update: UpdateQuery<JobRecord>;
  /** Which job changes when several match (claims). */
  sort?: Record<string, SortOrder>;
}

/** Applies the transition atomically; the job after it, or null when no job was in the expected state. */
export async function applyTransition(jobs: JobModel, transition: JobTransition): Promise<JobRecord | null> {
  return jobs
    .findOneAndUpdate(transition.filter, transition.update, {
      returnDocument: 'after',
      ...(transition.sort ? { sort: transition.sort } : {}),
    })
    .lean<JobRecord>();
}

export interface JobError {
  code: string;
  message: string;
}

/** A run as the worker holding it knows it: the job and the start of its attempt identify the claim. */
export interface LeasedRun {
  job: Pick<JobRecord, '_id' | 'startedAt'>;
  workerId: string;
}

/** Which jobs a cancel or an admin's change is about (an id, an owner's job, a chat's jobs). */
export type JobScope = QueryFilter<JobRecord>;

export interface ClaimInput {
  workerId: string;
  now: Date;
  leaseMs: number;
  /** Owners already at their running limit. */
  excludedOwners: Types.ObjectId[];
}

export interface LeaseRenewal {
  now: Date;
  leaseMs: number;
}

export interface SuccessInput {
  now: Date;
  outputs: AttachmentRecord[];
  computeMs: number;
}

export interface RetryInput {
  error: JobError;
  /** Not claimable before this (backoff). */
  retryAt: Date;
}

export interface FailureInput {
  now: Date;
  error: JobError;
  computeMs: number;
}

/** A running job whose lease was seen expired: the fields that decide how it is recovered. */
export type ExpiredLease = Pick<
  JobRecord,
  '_id' | 'leaseOwner' | 'cancelRequested' | 'attempts' | 'maxAttempts' | 'startedAt'
>;

const releasedLease = { leaseOwner: null, leaseExpiresAt: null };

function canceledOnRequest(): JobError {
  return { code: 'CANCELED', message: 'Canceled on request' };
}

function workerLost(retrying: boolean): JobError {
  return retrying
    ? { code: 'WORKER_LOST', message: 'The worker running this job stopped responding; retrying' }
    : {
        code: 'WORKER_LOST',
        message: 'The worker running this job stopped responding, and no attempts are left',
      };
}

/** The fields every end of a run sets; computeMs counts from the attempt's start unless measured. */
function ended(now: Date, startedAt: Date | null | undefined) {
  return {
    finishedAt: now,
    ...releasedLease,
    computeMs: startedAt ? now.getTime() - startedAt.getTime() : null,
  };
}

function canceledRun(now: Date, startedAt: Date | null | undefined) {
  return versioned({ status: 'canceled', error: canceledOnRequest(), ...ended(now, startedAt) });
}

/** Sets fields and counts a new version, which is what listeners of job changes are told about. */
function versioned(fields: Record<string, unknown>, increments: Record<string, number> = {}) {
  return { $set: fields, $inc: { ...increments, version: 1 } };
}

function heldBy({ job, workerId }: LeasedRun): QueryFilter<JobRecord> {
  return { _id: job._id, status: 'running', leaseOwner: workerId, startedAt: job.startedAt };
}

/** The fairest claimable queued job becomes running under the worker's lease; counts an attempt. */
export function claim({ workerId, now, leaseMs, excludedOwners }: ClaimInput): JobTransition {
  return {
    filter: {
      status: 'queued',
      availableAt: { $lte: now },
      ...(excludedOwners.length > 0 ? { ownerId: { $nin: excludedOwners } } : {}),
    },
    update: versioned(
      {
        status: 'running',
        leaseOwner: workerId,
        claimedBy: workerId,
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
        startedAt: now,
        progress: 0,
      },
      { attempts: 1 },
    ),
    // _id settles ties, so the order is total and a job's queue position is exact.
    sort: { fairRank: 1, createdAt: 1, _id: 1 },
  };
}

/** Extends the lease without a new version: lease renewals are not news to anyone watching. */
export function renewLease(run: LeasedRun, { now, leaseMs }: LeaseRenewal): JobTransition {
  return {
    filter: heldBy(run),
    update: { $set: { leaseExpiresAt: new Date(now.getTime() + leaseMs) } },
  };
}

/** Extends the lease and records the run's progress. */
export function recordProgress(run: LeasedRun, renewal: LeaseRenewal & { progress: number }): JobTransition {
  return {
    filter: heldBy(run),
    update: versioned({
      leaseExpiresAt: new Date(renewal.now.getTime() + renewal.leaseMs),
      progress: renewal.progress,
    }),
  };
}

export function succeed(run: LeasedRun, { now, outputs, computeMs }: SuccessInput): JobTransition {
  return {
    filter: heldBy(run),
    update: versioned({
      status: 'succeeded',
      progress: 100,
      outputs,
      error: null,
      ...ended(now, run.job.startedAt),
      computeMs,
    }),
  };
}

/** A failed attempt goes back to the queue, claimable after the backoff. */
export function retryLater(run: LeasedRun, { error, retryAt }: RetryInput): JobTransition {
  return {
    filter: heldBy(run),
    update: versioned({ status: 'queued', error, progress: 0, ...releasedLease, availableAt: retryAt }),
  };
}

/** A failed attempt ends the job. */
export function fail(run: LeasedRun, { now, error, computeMs }: FailureInput): JobTransition {
  return {
    filter: heldBy(run),
    update: versioned({ status: 'failed', error, ...ended(now, run.job.startedAt), computeMs }),
  };
}

/** The run stopped because a cancel was asked for. */
export function finishCanceled(run: LeasedRun, now: Date): JobTransition {
  return { filter: heldBy(run), update: canceledRun(now, run.job.startedAt) };
}

/** Hands the run back to the queue without counting its attempt (shutdown, or a claim over the limit). */
export function release(run: LeasedRun): JobTransition {
  return {
    filter: heldBy(run),
    update: versioned({ status: 'queued', ...releasedLease, startedAt: null, progress: 0 }, { attempts: -1 }),
  };
}

/** A queued job is canceled at once. */
export function cancelQueued(scope: JobScope, now: Date): JobTransition {
  return {
    filter: { ...scope, status: 'queued' },
    update: versioned({
      status: 'canceled',
      cancelRequested: true,
      error: canceledOnRequest(),
      finishedAt: now,
    }),
  };
}

/** A running job is asked to stop; its worker ends it (finishCanceled) wherever it runs. */
export function askToCancel(scope: JobScope): JobTransition {
  return { filter: { ...scope, status: 'running' }, update: versioned({ cancelRequested: true }) };
}

/**
 * A job whose lease expired: canceled when a cancel was asked for, failed when no attempts are left,
 * queued again otherwise. The filter pins what the outcome was decided from, so a cancel asked or a
 * lease renewed since the job was read leaves it for the next look.
 */
export function recoverExpired(expired: ExpiredLease, now: Date): JobTransition {
  const filter: QueryFilter<JobRecord> = {
    _id: expired._id,
    status: 'running',
    leaseOwner: expired.leaseOwner,
    leaseExpiresAt: { $lt: now },
    cancelRequested: expired.cancelRequested,
    attempts: expired.attempts,
  };
  if (expired.cancelRequested) return { filter, update: canceledRun(now, expired.startedAt) };
  if (expired.attempts >= expired.maxAttempts)
    return {
      filter,
      update: versioned({ status: 'failed', error: workerLost(false), ...ended(now, expired.startedAt) }),
    };
  return {
    filter,
    update: versioned({
      status: 'queued',
      ...releasedLease,
      availableAt: now,
      progress: 0,
      error: workerLost(true),
    }),
  };
}

/** An admin retries a failed or canceled job from scratch. */
export function adminRetry(jobId: Types.ObjectId, now: Date): JobTransition {
  return {
    filter: { _id: jobId, status: { $in: ['failed', 'canceled'] } },
    update: versioned({
      status: 'queued',
      attempts: 0,
      error: null,
      progress: 0,
      availableAt: now,
      cancelRequested: false,
      startedAt: null,
      finishedAt: null,
      computeMs: null,
      ...releasedLease,
    }),
  };
}

/** An admin puts a running job back in the queue; its attempt still counts. */
export function adminRequeue(jobId: Types.ObjectId, now: Date): JobTransition {
  return {
    filter: { _id: jobId, status: 'running' },
    update: versioned({ status: 'queued', progress: 0, availableAt: now, ...releasedLease }),
  };
}

/** An admin ends a queued or running job as failed. */
export function adminFail(jobId: Types.ObjectId, now: Date, error: JobError | undefined): JobTransition {
  return {
    filter: { _id: jobId, status: { $in: ['queued', 'running'] } },
    update: versioned({
      status: 'failed',
      error: error ?? { code: 'FAILED_BY_ADMIN', message: 'An administrator stopped this job' },
      finishedAt: now,
      ...releasedLease,
    }),
  };
}

export function adminSetProgress(jobId: Types.ObjectId, progress: number): JobTransition {
  return { filter: { _id: jobId, status: 'running' }, update: versioned({ progress }) };
}
