import { isDeepStrictEqual } from 'node:util';

import mongoose, { Types } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { jobModel, jobTransitions as transitions, type JobModel, type JobRecord } from '@gen3d/server';

import {
  databaseUri,
  startTestDatabase,
  uniqueDatabaseName,
  type TestDatabase,
} from '../support/database.js';

type JobTransition = transitions.JobTransition;

let database: TestDatabase;
let connection: mongoose.Connection;
let jobs: JobModel;

beforeAll(async () => {
  database = await startTestDatabase();
  connection = await mongoose
    .createConnection(databaseUri(database, uniqueDatabaseName('job_transitions')))
    .asPromise();
  jobs = jobModel(connection);
  await jobs.init();
});

afterAll(async () => {
  await connection?.close();
  await database?.stop();
});

// Claims pick any queued job, so every test starts from an empty collection.
beforeEach(async () => {
  await jobs.deleteMany({});
});

const leaseMs = 30_000;
const ownerId = new Types.ObjectId();
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
const output = {
  assetId: new Types.ObjectId(),
  kind: 'model' as const,
  format: 'glb' as const,
  fileName: 'fox.glb',
};

async function reload(id: Types.ObjectId): Promise<JobRecord> {
  const job = await jobs.findById(id).lean<JobRecord>();
  if (!job) throw new Error(`job ${id.toHexString()} is gone`);
  return job;
}

async function seed(fields: Record<string, unknown> = {}): Promise<JobRecord> {
  const created = await jobs.create({
    ownerId,
    prompt: 'A Fox',
    promptKey: 'a fox',
    params: { seed: 7, quality: 'draft', formats: ['glb'], modelServer: 'reference' },
    maxAttempts: 3,
    availableAt: minutesAgo(10),
    ...fields,
  });
  return reload(created._id);
}

const seedQueued = (fields: Record<string, unknown> = {}) => seed(fields);

/** A job in the middle of its first attempt, held by worker-a. */
const seedRunning = (fields: Record<string, unknown> = {}) =>
  seed({
    status: 'running',
    attempts: 1,
    progress: 40,
    leaseOwner: 'worker-a',
    claimedBy: 'worker-a',
    leaseExpiresAt: new Date(Date.now() + leaseMs),
    startedAt: minutesAgo(1),
    ...fields,
  });

const seedFinished = (status: 'succeeded' | 'failed' | 'canceled') =>
  seed({
    status,
    attempts: 1,
    progress: status === 'succeeded' ? 100 : 40,
    claimedBy: 'worker-a',
    startedAt: minutesAgo(2),
    finishedAt: minutesAgo(1),
    computeMs: 60_000,
    cancelRequested: status === 'canceled',
    error: status === 'succeeded' ? null : { code: 'MODEL_ERROR', message: 'The model server gave up' },
  });

/** The fields the transition changed, with their new values (updatedAt aside: mongoose sets it). */
function changes(before: JobRecord, after: JobRecord): Record<string, unknown> {
  const beforeFields = new Map(Object.entries(before));
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after))
    if (key !== 'updatedAt' && !isDeepStrictEqual(beforeFields.get(key), value)) changed[key] = value;
  return changed;
}

async function expectApplies(before: JobRecord, transition: JobTransition): Promise<Record<string, unknown>> {
  const after = await transitions.applyTransition(jobs, transition);
  expect(after?._id.toHexString()).toBe(before._id.toHexString());
  expect(await reload(before._id)).toEqual(after);
  return changes(before, after as JobRecord);
}

async function expectNoMatch(before: JobRecord, transition: JobTransition): Promise<void> {
  expect(await transitions.applyTransition(jobs, transition)).toBeNull();
  expect(await reload(before._id)).toEqual(before);
}

const heldBy = (job: JobRecord, workerId = 'worker-a') => ({ job, workerId });

describe('job transitions', () => {
  describe('claim', () => {
    it('makes the fairest available queued job running under the worker lease and counts an attempt', async () => {
      const later = await seedQueued({ fairRank: 1, availableAt: minutesAgo(20) });
      const fairest = await seedQueued({ fairRank: 0, error: { code: 'WORKER_LOST', message: 'retrying' } });
      const now = new Date();
      const claim = transitions.claim({ workerId: 'worker-b', now, leaseMs, excludedOwners: [] });
      expect(await expectApplies(fairest, claim)).toEqual({
        status: 'running',
        leaseOwner: 'worker-b',
        claimedBy: 'worker-b',
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
        startedAt: now,
        attempts: 1,
        version: fairest.version + 1,
      });
      expect(await reload(later._id)).toEqual(later);
    });

    it('does not claim a job in backoff, a job of an excluded owner, or a job that is not queued', async () => {
      const now = new Date();
      const backingOff = await seedQueued({ availableAt: new Date(now.getTime() + 60_000) });
      const running = await seedRunning({ leaseExpiresAt: minutesAgo(1) });
      const finished = await seedFinished('failed');
      await expectNoMatch(
        backingOff,
        transitions.claim({ workerId: 'worker-b', now, leaseMs, excludedOwners: [] }),
      );
      const waiting = await seedQueued();
      await expectNoMatch(
        waiting,
        transitions.claim({ workerId: 'worker-b', now, leaseMs, excludedOwners: [ownerId] }),
      );
      await jobs.deleteOne({ _id: waiting._id });
      expect(
        await transitions.applyTransition(
          jobs,
          transitions.claim({ workerId: 'worker-b', now, leaseMs, excludedOwners: [] }),
        ),
      ).toBeNull();
      expect(await reload(running._id)).toEqual(running);
      expect(await reload(finished._id)).toEqual(finished);
    });
  });

  describe('heartbeat', () => {
    it('renewLease extends the lease without a new version or progress', async () => {
      const job = await seedRunning();
      const now = new Date();
      expect(await expectApplies(job, transitions.renewLease(heldBy(job), { now, leaseMs }))).toEqual({
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
      });
    });

    it('recordProgress extends the lease, sets progress and counts a version', async () => {
      const job = await seedRunning();
      const now = new Date();
      const transition = transitions.recordProgress(heldBy(job), { now, leaseMs, progress: 65 });
      expect(await expectApplies(job, transition)).toEqual({
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
        progress: 65,
        version: job.version + 1,
      });
    });

    it('does not renew a lease held by another worker or a job no longer running', async () => {
      const job = await seedRunning({ leaseOwner: 'worker-b', claimedBy: 'worker-b' });
      const now = new Date();
      await expectNoMatch(job, transitions.renewLease(heldBy(job), { now, leaseMs }));
      await expectNoMatch(job, transitions.recordProgress(heldBy(job), { now, leaseMs, progress: 90 }));
      const requeued = await seedQueued({ attempts: 1, startedAt: minutesAgo(1) });
      await expectNoMatch(requeued, transitions.renewLease(heldBy(requeued), { now, leaseMs }));
    });

    it('does not renew the lease of a later claim by the same worker (a stale run of that worker)', async () => {
      const staleClaim = await seedRunning({ startedAt: minutesAgo(5) });
      const job = await jobs
        .findByIdAndUpdate(
          staleClaim._id,
          { $set: { startedAt: minutesAgo(1) } },
          { returnDocument: 'after' },
        )
        .lean<JobRecord>();
      if (!job) throw new Error('the job is gone');
      const now = new Date();
      await expectNoMatch(job, transitions.renewLease(heldBy(staleClaim), { now, leaseMs }));
      await expectNoMatch(
        job,
        transitions.succeed(heldBy(staleClaim), { now, outputs: [output], computeMs: 1 }),
      );
    });
  });

  describe('succeed', () => {
    it('ends the run with its outputs, full progress, no error and the lease released', async () => {
      const job = await seedRunning({ error: { code: 'WORKER_LOST', message: 'retrying' } });
      const now = new Date();
      const transition = transitions.succeed(heldBy(job), { now, outputs: [output], computeMs: 4_321 });
      expect(await expectApplies(job, transition)).toEqual({
        status: 'succeeded',
        progress: 100,
        outputs: [output],
        error: null,
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        computeMs: 4_321,
        version: job.version + 1,
      });
    });

    it('does not apply with another worker lease or once the job was canceled', async () => {
      const job = await seedRunning();
      const now = new Date();
      const input = { now, outputs: [output], computeMs: 1 };
      await expectNoMatch(job, transitions.succeed(heldBy(job, 'worker-b'), input));
      const canceled = await seedFinished('canceled');
      await expectNoMatch(canceled, transitions.succeed(heldBy(canceled), input));
    });
  });

  describe('retryLater', () => {
    it('puts the job back in the queue after the backoff, keeping its attempt count and start', async () => {
      const job = await seedRunning();
      const retryAt = new Date(Date.now() + 5_000);
      const error = { code: 'MODEL_UNAVAILABLE', message: 'The model server is down' };
      expect(await expectApplies(job, transitions.retryLater(heldBy(job), { error, retryAt }))).toEqual({
        status: 'queued',
        error,
        progress: 0,
        leaseOwner: null,
        leaseExpiresAt: null,
        availableAt: retryAt,
        version: job.version + 1,
      });
    });

    it('does not apply with another worker lease or to a queued job', async () => {
      const job = await seedRunning();
      const input = { error: { code: 'X', message: 'x' }, retryAt: new Date() };
      await expectNoMatch(job, transitions.retryLater(heldBy(job, 'worker-b'), input));
      const queued = await seedQueued();
      await expectNoMatch(queued, transitions.retryLater(heldBy(queued), input));
    });
  });

  describe('fail', () => {
    it('ends the job with the error and the measured compute time', async () => {
      const job = await seedRunning();
      const now = new Date();
      const error = { code: 'INVALID_MESH', message: 'The mesh has no faces' };
      expect(await expectApplies(job, transitions.fail(heldBy(job), { now, error, computeMs: 777 }))).toEqual(
        {
          status: 'failed',
          error,
          finishedAt: now,
          leaseOwner: null,
          leaseExpiresAt: null,
          computeMs: 777,
          version: job.version + 1,
        },
      );
    });

    it('does not apply with another worker lease or to a finished job', async () => {
      const job = await seedRunning();
      const input = { now: new Date(), error: { code: 'X', message: 'x' }, computeMs: 1 };
      await expectNoMatch(job, transitions.fail(heldBy(job, 'worker-b'), input));
      const succeeded = await seedFinished('succeeded');
      await expectNoMatch(succeeded, transitions.fail(heldBy(succeeded), input));
    });
  });

  describe('cancel', () => {
    it('cancelQueued cancels a queued job at once', async () => {
      const job = await seedQueued();
      const now = new Date();
      expect(await expectApplies(job, transitions.cancelQueued({ _id: job._id, ownerId }, now))).toEqual({
        status: 'canceled',
        cancelRequested: true,
        error: { code: 'CANCELED', message: 'Canceled on request' },
        finishedAt: now,
        version: job.version + 1,
      });
    });

    it('cancelQueued leaves running jobs and other owners alone', async () => {
      const running = await seedRunning();
      await expectNoMatch(running, transitions.cancelQueued({ _id: running._id }, new Date()));
      const queued = await seedQueued();
      await expectNoMatch(
        queued,
        transitions.cancelQueued({ _id: queued._id, ownerId: new Types.ObjectId() }, new Date()),
      );
    });

    it('askToCancel marks a running job for its worker to stop', async () => {
      const job = await seedRunning();
      expect(await expectApplies(job, transitions.askToCancel({ _id: job._id }))).toEqual({
        cancelRequested: true,
        version: job.version + 1,
      });
    });

    it('askToCancel does not apply to queued or finished jobs', async () => {
      const queued = await seedQueued();
      await expectNoMatch(queued, transitions.askToCancel({ _id: queued._id }));
      const failed = await seedFinished('failed');
      await expectNoMatch(failed, transitions.askToCancel({ _id: failed._id }));
    });

    it('finishCanceled ends the run as canceled, counting compute time from its start', async () => {
      const job = await seedRunning({ cancelRequested: true });
      const now = new Date();
      expect(await expectApplies(job, transitions.finishCanceled(heldBy(job), now))).toEqual({
        status: 'canceled',
        error: { code: 'CANCELED', message: 'Canceled on request' },
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        computeMs: now.getTime() - (job.startedAt as Date).getTime(),
        version: job.version + 1,
      });
    });

    it('finishCanceled does not apply with another worker lease', async () => {
      const job = await seedRunning({ cancelRequested: true });
      await expectNoMatch(job, transitions.finishCanceled(heldBy(job, 'worker-b'), new Date()));
    });
  });

  describe('release (requeue)', () => {
    it('hands the run back to the queue without counting its attempt', async () => {
      const job = await seedRunning();
      expect(await expectApplies(job, transitions.release(heldBy(job)))).toEqual({
        status: 'queued',
        leaseOwner: null,
        leaseExpiresAt: null,
        startedAt: null,
        progress: 0,
        attempts: 0,
        version: job.version + 1,
      });
    });

    it('does not apply with another worker lease or to a queued job', async () => {
      const job = await seedRunning();
      await expectNoMatch(job, transitions.release(heldBy(job, 'worker-b')));
      const queued = await seedQueued();
      await expectNoMatch(queued, transitions.release(heldBy(queued)));
    });
  });

  describe('recoverExpired', () => {
    const expiredRun = (fields: Record<string, unknown> = {}) =>
      seedRunning({ leaseExpiresAt: minutesAgo(1), ...fields });

    it('queues a job with attempts left again, now, with a WORKER_LOST error', async () => {
      const job = await expiredRun();
      const now = new Date();
      expect(await expectApplies(job, transitions.recoverExpired(job, now))).toEqual({
        status: 'queued',
        leaseOwner: null,
        leaseExpiresAt: null,
        availableAt: now,
        progress: 0,
        error: { code: 'WORKER_LOST', message: 'The worker running this job stopped responding; retrying' },
        version: job.version + 1,
      });
    });

    it('fails a job with no attempts left', async () => {
      const job = await expiredRun({ attempts: 3 });
      const now = new Date();
      expect(await expectApplies(job, transitions.recoverExpired(job, now))).toEqual({
        status: 'failed',
        error: {
          code: 'WORKER_LOST',
          message: 'The worker running this job stopped responding, and no attempts are left',
        },
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        computeMs: now.getTime() - (job.startedAt as Date).getTime(),
        version: job.version + 1,
      });
    });

    it('cancels a job whose cancel was asked for', async () => {
      const job = await expiredRun({ cancelRequested: true });
      const now = new Date();
      expect(await expectApplies(job, transitions.recoverExpired(job, now))).toEqual({
        status: 'canceled',
        error: { code: 'CANCELED', message: 'Canceled on request' },
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        computeMs: now.getTime() - (job.startedAt as Date).getTime(),
        version: job.version + 1,
      });
    });

    it('does not apply to a live lease, a lease taken over, or a job finished meanwhile', async () => {
      const live = await seedRunning();
      await expectNoMatch(live, transitions.recoverExpired(live, new Date()));
      const snapshot = await expiredRun();
      const takenOver = await jobs
        .findByIdAndUpdate(snapshot._id, { $set: { leaseOwner: 'worker-b' } }, { returnDocument: 'after' })
        .lean<JobRecord>();
      await expectNoMatch(takenOver as JobRecord, transitions.recoverExpired(snapshot, new Date()));
      const succeeded = await seedFinished('succeeded');
      await expectNoMatch(succeeded, transitions.recoverExpired(snapshot, new Date()));
    });

    it('does not requeue a job whose cancel was asked for after it was seen expired', async () => {
      const snapshot = await expiredRun();
      const asked = await transitions.applyTransition(jobs, transitions.askToCancel({ _id: snapshot._id }));
      await expectNoMatch(asked as JobRecord, transitions.recoverExpired(snapshot, new Date()));
    });
  });

  describe('admin changes', () => {
    it('adminRetry starts a failed or canceled job over from scratch', async () => {
      for (const status of ['failed', 'canceled'] as const) {
        const job = await seedFinished(status);
        const now = new Date();
        expect(await expectApplies(job, transitions.adminRetry(job._id, now))).toEqual({
          status: 'queued',
          attempts: 0,
          error: null,
          progress: 0,
          availableAt: now,
          startedAt: null,
          finishedAt: null,
          computeMs: null,
          ...(status === 'canceled' ? { cancelRequested: false } : {}),
          version: job.version + 1,
        });
      }
    });

    it('adminRetry does not apply to running or succeeded jobs', async () => {
      const running = await seedRunning();
      await expectNoMatch(running, transitions.adminRetry(running._id, new Date()));
      const succeeded = await seedFinished('succeeded');
      await expectNoMatch(succeeded, transitions.adminRetry(succeeded._id, new Date()));
    });

    it('adminRequeue puts a running job back in the queue, its attempt still counted', async () => {
      const job = await seedRunning();
      const now = new Date();
      expect(await expectApplies(job, transitions.adminRequeue(job._id, now))).toEqual({
        status: 'queued',
        progress: 0,
        availableAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        version: job.version + 1,
      });
      const requeued = await reload(job._id);
      await expectNoMatch(requeued, transitions.adminRequeue(job._id, new Date()));
    });

    it('adminFail ends a queued or running job with the given or a default error', async () => {
      const queued = await seedQueued();
      const now = new Date();
      const error = { code: 'BAD_PROMPT', message: 'Not allowed' };
      expect(await expectApplies(queued, transitions.adminFail(queued._id, now, error))).toEqual({
        status: 'failed',
        error,
        finishedAt: now,
        version: queued.version + 1,
      });
      const running = await seedRunning();
      expect(await expectApplies(running, transitions.adminFail(running._id, now, undefined))).toEqual({
        status: 'failed',
        error: { code: 'FAILED_BY_ADMIN', message: 'An administrator stopped this job' },
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
        version: running.version + 1,
      });
    });

    it('adminFail does not apply to finished jobs', async () => {
      const succeeded = await seedFinished('succeeded');
      await expectNoMatch(succeeded, transitions.adminFail(succeeded._id, new Date(), undefined));
    });

    it('adminSetProgress moves a running job only', async () => {
      const job = await seedRunning();
      expect(await expectApplies(job, transitions.adminSetProgress(job._id, 80))).toEqual({
        progress: 80,
        version: job.version + 1,
      });
      const queued = await seedQueued();
      await expectNoMatch(queued, transitions.adminSetProgress(queued._id, 80));
    });
  });
});
