import type { QueryFilter } from 'mongoose';

import type { TQueueEstimate } from '@gen3d/shared';

import type { JobEvents } from './job-events.js';
import type { JobModel, JobRecord } from './job-model.js';
import type { RunDurations } from './run-durations.js';

export interface QueueEstimatesDeps {
  jobs: JobModel;
  durations: RunDurations;
  /** Jobs run at once across every instance. */
  totalWorkers(): Promise<number>;
  events: JobEvents;
  /** How long the workers and running jobs read for one estimate are reused (this instance's changes renew them at once). */
  cacheMs: number;
}

/** A job's place in the fair queue and its ETA (docs/api.md, "Queue position and ETA"). */
export interface QueueEstimates {
  of(job: JobRecord): Promise<TQueueEstimate>;
}

/** The fields of a job that place it in the queue. */
type QueuePlace = Pick<JobRecord, '_id' | 'fairRank' | 'createdAt'>;

/** The queued jobs a claim takes before `job`: claims go in (fairRank, createdAt, _id) order. */
export function aheadOf(job: QueuePlace): QueryFilter<JobRecord> {
  const rank = job.fairRank ?? 0;
  return {
    status: 'queued',
    $or: [
      { fairRank: { $lt: rank } },
      { fairRank: rank, createdAt: { $lt: job.createdAt } },
      { fairRank: rank, createdAt: job.createdAt, _id: { $lt: job._id } },
    ],
  };
}

/** What the workers are doing: how many run at once, and the running jobs' model servers and starts, by job id. */
interface WorkSnapshot {
  workers: number;
  running: ReadonlyMap<string, { startedAt: number; modelServer: string }>;
}

/** The snapshot after a job changed: a job that runs is among the running jobs, any other is not. */
function followed(work: WorkSnapshot, job: JobRecord): WorkSnapshot {
  const id = job._id.toHexString();
  const isRunning = job.status === 'running';
  if (isRunning === work.running.has(id)) return work;
  const running = new Map(work.running);
  if (isRunning)
    running.set(id, {
      startedAt: job.startedAt?.getTime() ?? Date.now(),
      modelServer: job.params.modelServer,
    });
  else running.delete(id);
  return { workers: work.workers, running };
}

/**
 * When the job `ahead` places from the front gets a worker: the workers free up as the running jobs end
 * (each after its server's typical run time, not before now), and each job ahead takes the earliest free
 * worker for `typicalMs`.
 */
function startAfter(ahead: number, freeAt: number[], typicalMs: number): number {
  const workers = [...freeAt];
  for (let index = 0; index < ahead; index += 1) {
    let earliest = 0;
    for (let worker = 1; worker < workers.length; worker += 1)
      if ((workers[worker] as number) < (workers[earliest] as number)) earliest = worker;
    workers[earliest] = (workers[earliest] as number) + typicalMs;
  }
  return Math.min(...workers);
}

const NONE: TQueueEstimate = { queuePosition: null, estimatedStartAt: null, estimatedFinishAt: null };

export function createQueueEstimates(deps: QueueEstimatesDeps): QueueEstimates {
  const { jobs, durations } = deps;
  let snapshot: { at: number; read: Promise<WorkSnapshot>; value: Promise<WorkSnapshot> } | undefined;
  /**
   * Estimates being computed, by job version and the number of job changes seen before: callers asking
   * for the same version with no change seen in between (a new job's answer and its live updates) share one.
   */
  const underway = new Map<string, Promise<TQueueEstimate>>();
  let changesSeen = 0;

  // The jobs this instance sees start and end show at once (the snapshot follows them); other changes,
  // and the workers, when it is read again after cacheMs.
  deps.events.subscribe((job) => {
    changesSeen += 1;
    if (snapshot) {
      const current = snapshot;
      const value = current.value.then((work) => followed(work, job));
      value.catch(() => undefined);
      snapshot = { ...current, value };
    }
    if (job.status === 'succeeded' && job.computeMs != null)
      durations.succeeded({
        id: job._id.toHexString(),
        modelServer: job.params.modelServer,
        computeMs: job.computeMs,
      });
  });

  async function readSnapshot(): Promise<WorkSnapshot> {
    const [workers, running] = await Promise.all([
      deps.totalWorkers(),
      jobs
        .find({ status: 'running' }, { startedAt: 1, 'params.modelServer': 1 })
        .lean<Array<Pick<JobRecord, '_id' | 'startedAt' | 'params'>>>(),
    ]);
    return {
      workers,
      running: new Map(
        running.map((job) => [
          job._id.toHexString(),
          { startedAt: job.startedAt?.getTime() ?? Date.now(), modelServer: job.params.modelServer },
        ]),
      ),
    };
  }

  function work(): Promise<WorkSnapshot> {
    if (snapshot && Date.now() - snapshot.at < deps.cacheMs) return snapshot.value;
    const read = readSnapshot();
    snapshot = { at: Date.now(), read, value: read };
    read.catch(() => {
      if (snapshot?.read === read) snapshot = undefined;
    });
    return read;
  }

  /** When each worker is free: running jobs end after their server's typical time (this job's when unknown). */
  async function workersFreeAt(now: number, { workers, running }: WorkSnapshot, fallbackMs: number) {
    const ends = await Promise.all(
      [...running.values()].map(async (job) =>
        Math.max(now, job.startedAt + ((await durations.typicalMs(job.modelServer)) ?? fallbackMs)),
      ),
    );
    ends.sort((a, b) => a - b);
    // More running than registered workers (an instance died and its leases have not expired): the earliest end first.
    const busy = ends.slice(0, workers);
    return [...busy, ...Array<number>(workers - busy.length).fill(now)];
  }

  async function estimate(job: JobRecord): Promise<TQueueEstimate> {
    const typicalMs = await durations.typicalMs(job.params.modelServer);
    if (job.status === 'running') {
      if (typicalMs === undefined || !job.startedAt) return NONE;
      const finish = Math.max(Date.now(), job.startedAt.getTime() + typicalMs);
      return { ...NONE, estimatedFinishAt: new Date(finish).toISOString() };
    }
    const [ahead, snapshotNow] = await Promise.all([jobs.countDocuments(aheadOf(job)), work()]);
    const queuePosition = ahead + 1;
    if (typicalMs === undefined || snapshotNow.workers === 0) return { ...NONE, queuePosition };
    const now = Date.now();
    const freeAt = await workersFreeAt(now, snapshotNow, typicalMs);
    // A job waiting for a retry starts no earlier than its backoff allows.
    const start = Math.max(startAfter(ahead, freeAt, typicalMs), job.availableAt.getTime());
    return {
      queuePosition,
      estimatedStartAt: new Date(start).toISOString(),
      estimatedFinishAt: new Date(start + typicalMs).toISOString(),
    };
  }

  return {
    async of(job) {
      if (job.status !== 'queued' && job.status !== 'running') return NONE;
      const key = `${job._id.toHexString()}.${job.version}.${changesSeen}`;
      const shared = underway.get(key);
      if (shared) return shared;
      const estimated = estimate(job).finally(() => underway.delete(key));
      underway.set(key, estimated);
      return estimated;
    },
  };
}
