import { anySignal } from 'any-signal';
import type { FastifyBaseLogger } from 'fastify';

import { startDeadline } from '../infra/deadline.js';
import type { AttachmentRecord } from '../modules/assets/attachment-schema.js';
import type { JobRecord } from './job-model.js';
import type { ClaimRound, JobFailure, JobQueue } from './queue.js';

/** What workers do with a claimed job: produce its outputs, or throw. */
export interface JobProcessor {
  process(
    job: JobRecord,
    run: { signal: AbortSignal; onProgress(progress: number): void },
  ): Promise<AttachmentRecord[]>;
  /** Removes outputs of a run whose job was lost to another worker. */
  discard(outputs: AttachmentRecord[]): Promise<void>;
  /** Classifies a failure of `process` for the job. */
  describeFailure(error: unknown, job: JobRecord): JobFailure;
}

export interface WorkerPoolOptions {
  /** Jobs run at once in this instance; 0 claims nothing. */
  concurrency: number;
  /** The cross-instance fallback: how often to look for work nobody announced here. */
  pollIntervalMs: number;
  leaseMs: number;
  /** The longest one attempt may take. */
  timeoutMs: number;
  /** How often running jobs are checked for a cancel asked on any instance. */
  cancelCheckMs: number;
  /** Progress is written at most this often per job. */
  progressIntervalMs: number;
  workerId: string;
  log: FastifyBaseLogger;
  /** Told once per run this pool ends, however it ended. */
  onRunEnded?: (job: JobRecord, outcome: RunOutcome, durationMs: number) => void;
}

/**
 * How a run on this instance ended: the job succeeded or failed for good, went back to the queue for a
 * retry, was canceled, was handed back at shutdown, was lost to another worker (its lease expired), or its
 * outcome could not be written.
 */
export type RunOutcome = 'succeeded' | 'failed' | 'retried' | 'canceled' | 'released' | 'lost' | 'unrecorded';

/** A run's success could not be written, nor could the run be handed back: its lease will expire. */
class OutcomeNotRecorded extends Error {
  constructor(override readonly cause: unknown) {
    super('the outcome of a job run could not be recorded');
  }
}

/** Why a run was stopped from outside the job. */
class StopReason extends Error {
  constructor(readonly kind: 'cancel' | 'shutdown' | 'lease-lost') {
    super(`job run stopped: ${kind}`);
  }
}

function timedOut(timeoutMs: number): JobFailure {
  return {
    code: 'JOB_TIMEOUT',
    message: `The attempt took longer than ${Math.round(timeoutMs / 1000)} s (JOB_TIMEOUT_MS)`,
    retryable: true,
  };
}

interface Run {
  job: JobRecord;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Claims and runs jobs. Work is picked up at once when this instance queues a job or finishes one
 * (`wake`), and by a short poll for jobs queued elsewhere. Leases are heartbeated; a lease lost to
 * another worker stops the run without touching the job.
 */
export class WorkerPool {
  private readonly runs = new Map<string, Run>();
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly processor: JobProcessor,
    private readonly options: WorkerPoolOptions,
  ) {}

  start(): void {
    if (this.options.concurrency === 0) return;
    this.timers.push(
      setInterval(() => {
        void this.queue
          .recoverExpiredLeases()
          .catch((error: unknown) => this.options.log.error({ err: error }, 'lease recovery failed'));
        this.wake();
      }, this.options.pollIntervalMs),
      setInterval(() => void this.checkCancels(), this.options.cancelCheckMs),
    );
    this.wake();
  }

  /** Looks for work now (a job was queued here, or a slot freed up). */
  wake(): void {
    if (this.stopping || this.options.concurrency === 0) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.wake();
      }
    });
  }

  get running(): number {
    return this.runs.size;
  }

  /** Jobs this pool runs at once at most. */
  get size(): number {
    return this.options.concurrency;
  }

  /** Stops claiming, lets running jobs finish until the deadline, then hands the rest back to the queue. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    const all = Promise.all([...this.runs.values()].map((run) => run.done));
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([all, deadline]);
    for (const run of this.runs.values()) run.controller.abort(new StopReason('shutdown'));
    await all;
  }

  private async pump(): Promise<void> {
    const round: ClaimRound = {};
    while (!this.stopping && this.runs.size < this.options.concurrency) {
      const job = await this.queue.claimNext(this.options.workerId, round).catch((error: unknown) => {
        this.options.log.error({ err: error }, 'claiming a job failed');
        return undefined;
      });
      if (!job) return;
      if (this.stopping) {
        await this.queue.release(job, this.options.workerId);
        return;
      }
      this.begin(job);
    }
  }

  private begin(job: JobRecord): void {
    const id = job._id.toHexString();
    const controller = new AbortController();
    const run: Run = { job, controller, done: Promise.resolve() };
    this.runs.set(id, run);
    const startedAt = performance.now();
    run.done = this.execute(run)
      .catch((error: unknown): RunOutcome => {
        this.options.log.error({ err: error, jobId: id }, 'recording a job outcome failed');
        return 'unrecorded';
      })
      .then((outcome) => this.options.onRunEnded?.(job, outcome, performance.now() - startedAt))
      .finally(() => {
        this.runs.delete(id);
        this.wake();
      });
  }

  private async execute({ job, controller }: Run): Promise<RunOutcome> {
    const { queue, processor, options } = this;
    const workerId = options.workerId;
    const deadline = startDeadline(options.timeoutMs);
    const signal = anySignal([controller.signal, deadline.signal]);
    const startedAt = Date.now();
    let reported = 0;
    let lastWrite = 0;
    const keepLease = setInterval(
      () => {
        void queue.heartbeat(job, workerId).then(
          (held) => {
            if (!held) controller.abort(new StopReason('lease-lost'));
          },
          () => undefined,
        );
      },
      Math.max(250, Math.floor(options.leaseMs / 3)),
    );
    const onProgress = (progress: number): void => {
      const now = Date.now();
      if (progress <= reported || now - lastWrite < options.progressIntervalMs) return;
      [reported, lastWrite] = [progress, now];
      void queue.heartbeat(job, workerId, progress).catch(() => undefined);
    };
    try {
      const outputs = await processor.process(job, { signal, onProgress });
      return await this.recordSuccess(job, outputs, Date.now() - startedAt);
    } catch (error) {
      if (error instanceof OutcomeNotRecorded) throw error.cause;
      const reason: unknown = controller.signal.reason;
      if (reason instanceof StopReason) {
        if (reason.kind === 'cancel')
          return (await queue.finishCanceled(job, workerId)) ? 'canceled' : 'lost';
        if (reason.kind === 'shutdown') {
          await queue.release(job, workerId);
          return 'released';
        }
        return 'lost';
      }
      const failure = deadline.signal.aborted
        ? timedOut(options.timeoutMs)
        : processor.describeFailure(error, job);
      const context = { jobId: job._id.toHexString(), requestId: job.requestId ?? undefined };
      if (failure.code === 'INTERNAL') {
        options.log.error({ err: error, ...context }, 'job failed unexpectedly');
      } else {
        options.log.warn(
          { ...context, code: failure.code, attempt: job.attempts, detail: failure.detail },
          failure.detail ?? failure.message,
        );
      }
      const failed = await queue.fail(job, workerId, failure, Date.now() - startedAt);
      if (!failed) return 'lost';
      return failed.status === 'queued' ? 'retried' : 'failed';
    } finally {
      clearInterval(keepLease);
      signal.clear();
      deadline.clear();
    }
  }

  /**
   * Writes the run's success. When that write fails, it may still have happened: the queue settles which
   * (the run is handed back for a retry unless it did), and outputs no job refers to are removed.
   */
  private async recordSuccess(
    job: JobRecord,
    outputs: AttachmentRecord[],
    computeMs: number,
  ): Promise<RunOutcome> {
    const { queue, processor, options } = this;
    let finished: JobRecord | undefined;
    try {
      finished = await queue.succeed(job, options.workerId, outputs, computeMs);
    } catch (error) {
      options.log.warn({ err: error, jobId: job._id.toHexString() }, 'writing a job success failed');
      let settled: Awaited<ReturnType<JobQueue['settleUnrecordedSuccess']>>;
      try {
        settled = await queue.settleUnrecordedSuccess(
          job,
          options.workerId,
          processor.describeFailure(error, job),
          computeMs,
        );
      } catch {
        throw new OutcomeNotRecorded(error);
      }
      if (settled.recorded) return 'succeeded';
      await processor.discard(outputs);
      if (!settled.job) return 'lost';
      return settled.job.status === 'queued' ? 'retried' : 'failed';
    }
    if (finished) return 'succeeded';
    await processor.discard(outputs);
    return 'lost';
  }

  private async checkCancels(): Promise<void> {
    if (this.runs.size === 0) return;
    const ids = [...this.runs.values()].map((run) => run.job._id);
    const canceled = await this.queue.cancelRequestedAmong(ids).catch(() => []);
    for (const id of canceled) this.runs.get(id)?.controller.abort(new StopReason('cancel'));
  }
}
