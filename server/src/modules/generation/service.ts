import { EventEmitter, on } from 'node:events';

import { anySignal } from 'any-signal';
import { Types, type QueryFilter } from 'mongoose';
import type { z } from 'zod';

import {
  PostprocessKinds,
  type TCreateJobInput,
  type TGenerationParams,
  type TJob,
  type TJobInputType,
  type TMeshFormat,
  type TQueueEstimate,
  type ZAdminJobUpdateInput,
  type ZGenerateInput,
  type ZGenerateResult,
  type ZListJobsInput,
} from '@gen3d/shared';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import { onPage } from '../../db/paging.js';
import { BadRequest, Conflict, DomainError, NotFound, ServiceUnavailable } from '../../domain-errors.js';
import type { StreamSlots } from '../../infra/stream-slots.js';
import type { JobEvents } from '../../jobs/job-events.js';
import type { JobModel, JobRecord } from '../../jobs/job-model.js';
import type { JobWatcher } from '../../jobs/job-watcher.js';
import type { QueueEstimates } from '../../jobs/queue-estimates.js';
import type { QueueTicks } from '../../jobs/queue-ticks.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { AssetRecord } from '../assets/model.js';
import type { AssetService } from '../assets/service.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { ChatService } from '../chats/service.js';
import type { MessageService } from '../messages/service.js';
import type { StoredObjectCaps } from '../quotas/stored-object-caps.js';
import { jobView } from './job-view.js';

export interface GenerationDeps {
  jobs: JobModel;
  queue: JobQueue;
  events: JobEvents;
  watcher: JobWatcher;
  chats: ChatService;
  messages: MessageService;
  assets: AssetService;
  modelServerNames: readonly string[];
  /** What each model server's contract takes (text, images), by name. */
  modelServerInputs: ReadonlyMap<string, { text: boolean; image: boolean }>;
  defaultModelServer: string;
  dailyQuota: number;
  generateTimeoutMs: number;
  /** Tells this instance's workers a job is waiting. */
  onQueued(): void;
  /** Aborts when the app shuts down: open live-update streams end, so their connections can close. */
  closing: AbortSignal;
  audit: AuditLog;
  caps: StoredObjectCaps;
  streams: StreamSlots;
  /** Queue positions and ETAs of the jobs clients read. */
  estimates: QueueEstimates;
  /** When live streams re-read their queued jobs' positions. */
  ticks: QueueTicks;
}

/** One live update: the job's state and the id a client resumes from. */
export interface JobEvent {
  id: string;
  job: TJob;
}

type GenerateResult = z.infer<typeof ZGenerateResult>;

export interface GenerationService {
  /**
   * Writes the prompt as a user message and queues its job; the same idempotency key gives the same job.
   * `requestId` is the queuing request's, kept on the job so its failures are logged with it.
   */
  create(ownerId: string, input: TCreateJobInput, requestId?: string): Promise<TJob>;
  /** create, then waits for the job to finish (GENERATE_TIMEOUT_MS at most). */
  generate(
    ownerId: string,
    input: z.infer<typeof ZGenerateInput>,
    requestId?: string,
  ): Promise<GenerateResult>;
  list(ownerId: string, input: z.output<typeof ZListJobsInput>): Promise<TJob[]>;
  get(ownerId: string, jobId: string): Promise<TJob>;
  /** Cancels a queued job at once and stops a running one wherever it runs; JOB_FINISHED when it ended. */
  cancel(ownerId: string, jobId: string): Promise<TJob>;
  /** An admin's change of any job's state (see ZAdminJobUpdateInput); CONFLICT when its state does not allow it. */
  adminUpdate(actor: Actor, input: z.output<typeof ZAdminJobUpdateInput>): Promise<TJob>;
  /** The owner's job updates (one job's, or all), resuming after `lastEventId`; ends when `signal` aborts. */
  watch(ownerId: string, options: WatchOptions): AsyncGenerator<JobEvent>;
  /** A client's live stream of `watch`: refused with TOO_MANY_STREAMS past the caller's or the address's cap. */
  subscribe(ownerId: string, address: string, options: WatchOptions): AsyncGenerator<JobEvent>;
}

export interface WatchOptions {
  jobId?: string | undefined;
  lastEventId?: string | undefined;
  signal: AbortSignal;
  /** Without queue positions and ETAs, and no updates when only those change (default: with them). */
  withoutQueue?: boolean;
}

/** A live stream's own signal: the positions of its queued jobs may have changed. */
const QUEUE_TICK = Symbol('queue tick');

/** Estimates move with the clock; a queued job's live stream hears of a move this large or larger. */
const ETA_NOTICE_MS = 5_000;

/** Whether a queued job's new place is worth an update: another position, an estimate appearing or going, or one that moved. */
function queueNews(before: TQueueEstimate, now: TQueueEstimate): boolean {
  const moved = (a: string | null | undefined, b: string | null | undefined): boolean =>
    (a == null) !== (b == null) ||
    (a != null && b != null && Math.abs(Date.parse(a) - Date.parse(b)) >= ETA_NOTICE_MS);
  return (
    before.queuePosition !== now.queuePosition ||
    moved(before.estimatedStartAt, now.estimatedStartAt) ||
    moved(before.estimatedFinishAt, now.estimatedFinishAt)
  );
}

const FINISHED = new Set(['succeeded', 'failed', 'canceled']);

function eventId(job: JobRecord): string {
  return `${job.updatedAt.getTime()}.${job._id.toHexString()}.${job.version}`;
}

function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export function createGenerationService(deps: GenerationDeps): GenerationService {
  const { jobs, queue, events, watcher, chats, messages, assets } = deps;
  const view = (job: JobRecord): TJob => jobView(job, assets);
  const estimatedView = async (job: JobRecord): Promise<TJob> =>
    jobView(job, assets, await deps.estimates.of(job));
  const ownedFilter = (ownerId: string, jobId: string): QueryFilter<JobRecord> => ({
    _id: new Types.ObjectId(jobId),
    ownerId: new Types.ObjectId(ownerId),
  });

  async function owned(ownerId: string, jobId: string): Promise<JobRecord> {
    const job = await jobs.findOne(ownedFilter(ownerId, jobId)).lean<JobRecord>();
    if (!job) throw new NotFound('Job not found');
    return job;
  }

  function paramsOf(input: TCreateJobInput): JobRecord['params'] {
    const given: Partial<TGenerationParams> = { ...input.options, ...input.params };
    const modelServer = given.modelServer ?? deps.defaultModelServer;
    if (!deps.modelServerNames.includes(modelServer)) {
      throw new BadRequest(
        `Unknown model server "${modelServer}"; available: ${deps.modelServerNames.join(', ')}`,
        [{ path: 'params.modelServer', message: 'unknown model server' }],
      );
    }
    return {
      seed: given.seed ?? Math.floor(Math.random() * 4_294_967_295),
      quality: given.quality ?? 'standard',
      formats: given.formats ?? ['glb', 'obj', 'ply'],
      modelServer,
      guidanceScale: given.guidanceScale,
      steps: given.steps,
      frameSize: given.frameSize,
      ...(input.imageAssetId ? { imageAssetId: new Types.ObjectId(input.imageAssetId) } : {}),
    };
  }

  function inputTypeOf(input: TCreateJobInput): TJobInputType {
    if (input.imageAssetId === undefined) return 'text';
    return input.prompt === undefined ? 'image' : 'text+image';
  }

  /** Refuses a job whose input the chosen model server's contract does not take. */
  function checkInputsTaken(modelServer: string, inputType: TJobInputType): void {
    const takes = deps.modelServerInputs.get(modelServer);
    if (!takes || inputType === 'text' || takes.image) return;
    throw new DomainError(
      'MODEL_SERVER_TAKES_NO_IMAGES',
      `Model server "${modelServer}" takes text only; choose one that takes images (${
        [...deps.modelServerInputs]
          .filter(([, inputs]) => inputs.image)
          .map(([name]) => name)
          .join(', ') || 'none is configured'
      }) or leave out imageAssetId`,
      { issues: [{ path: 'imageAssetId', message: `model server "${modelServer}" takes text only` }] },
    );
  }

  async function checkQuota(owner: Types.ObjectId): Promise<void> {
    const now = new Date();
    // Post-processing jobs have a quota of their own; records without a kind are generations.
    const used = await jobs.countDocuments({
      ownerId: owner,
      createdAt: { $gte: startOfUtcDay(now) },
      kind: { $nin: PostprocessKinds },
    });
    if (used < deps.dailyQuota) return;
    const retryAfterSeconds = Math.ceil((startOfUtcDay(now).getTime() + 86_400_000 - now.getTime()) / 1000);
    throw new DomainError(
      'QUOTA_EXCEEDED',
      `You have used today's ${deps.dailyQuota} generations; the quota resets at midnight UTC`,
      { retryAfterSeconds },
    );
  }

  async function create(ownerId: string, input: TCreateJobInput, requestId?: string): Promise<TJob> {
    const owner = new Types.ObjectId(ownerId);
    const key = input.idempotencyKey ?? null;
    if (key) {
      const existing = await jobs.findOne({ ownerId: owner, idempotencyKey: key }).lean<JobRecord>();
      if (existing) return estimatedView(existing);
    }
    const params = paramsOf(input);
    const image = input.imageAssetId ? await assets.ownedImage(ownerId, input.imageAssetId) : undefined;
    const inputType = inputTypeOf(input);
    checkInputsTaken(params.modelServer, inputType);
    await checkQuota(owner);
    // The prompt and the answer are two messages; the files need room too.
    return deps.caps.withRoomForMessages(ownerId, 2, () =>
      deps.caps.withRoomForAssetBytes(ownerId, 1, () =>
        enqueue(owner, input, { params, inputType, image }, key, requestId),
      ),
    );
  }

  async function enqueue(
    owner: Types.ObjectId,
    input: TCreateJobInput,
    {
      params,
      inputType,
      image,
    }: { params: JobRecord['params']; inputType: TJobInputType; image: AssetRecord | undefined },
    key: string | null,
    requestId: string | undefined,
  ): Promise<TJob> {
    const ownerId = owner.toHexString();
    const text = input.prompt ?? '';
    const chat = input.chatId ? await chats.owned(ownerId, input.chatId) : undefined;
    const chatId =
      chat?._id ??
      new Types.ObjectId((await chats.create(ownerId, text ? text.slice(0, 80) : 'Model from an image')).id);
    const jobId = new Types.ObjectId();
    // The prompt (and the image) are in the chat before any worker can answer them.
    const prompt = await messages.append({
      chatId,
      ownerId: owner,
      role: 'user',
      type: image ? 'image' : 'text',
      content: text,
      attachments: image ? [assets.attachmentOf(image)] : [],
      jobId,
    });
    try {
      const job = await queue.enqueue({
        _id: jobId,
        ownerId: owner,
        chatId,
        prompt: text,
        inputType,
        params,
        idempotencyKey: key,
        userMessageId: prompt._id,
        requestId: requestId ?? null,
      });
      deps.onQueued();
      return await estimatedView(job);
    } catch (error) {
      await messages.remove(prompt._id);
      if (key && isDuplicateKeyError(error)) {
        const winner = await jobs.findOne({ ownerId: owner, idempotencyKey: key }).lean<JobRecord>();
        if (winner) return estimatedView(winner);
      }
      throw error;
    }
  }

  // The slot is taken when the stream starts, so a stream never started holds none.
  async function* subscribe(
    ownerId: string,
    address: string,
    options: WatchOptions,
  ): AsyncGenerator<JobEvent> {
    const release = deps.streams.acquire(ownerId, address);
    try {
      yield* watch(ownerId, options);
    } finally {
      release();
    }
  }

  async function* watch(ownerId: string, options: WatchOptions): AsyncGenerator<JobEvent> {
    const owner = new Types.ObjectId(ownerId);
    const relay = new EventEmitter();
    const unsubscribe = events.subscribe((job) => {
      if (job.ownerId.equals(owner) && (!options.jobId || job._id.toHexString() === options.jobId))
        relay.emit('update', job);
    });
    const unwatch = watcher.watch(ownerId);
    const unwatchQueue = options.withoutQueue
      ? () => undefined
      : deps.ticks.subscribe(() => relay.emit('update', QUEUE_TICK));
    const describe = (job: JobRecord): Promise<TJob> =>
      options.withoutQueue ? Promise.resolve(view(job)) : estimatedView(job);
    // The newest version of each job sent; for a queued job also the job and what was said of its place.
    const sent = new Map<string, { version: number; queued?: { job: JobRecord; shown: TJob } }>();
    const remember = (job: JobRecord, shown: TJob): void => {
      sent.set(job._id.toHexString(), {
        version: job.version,
        ...(job.status === 'queued' ? { queued: { job, shown } } : {}),
      });
    };
    let queueUpdates = 0;
    // Not AbortSignal.any: on Node 20 it keeps every signal made from the server-long `closing` for good.
    const ended = anySignal([options.signal, deps.closing]);
    try {
      const updates = on(relay, 'update', { signal: ended });
      // Catch up first: the job as it is now, or everything changed since the last event seen.
      const since = options.lastEventId ? Number(options.lastEventId.split('.')[0]) : undefined;
      const filter: QueryFilter<JobRecord> = {
        ownerId: owner,
        ...(options.jobId ? { _id: new Types.ObjectId(options.jobId) } : {}),
        ...(since !== undefined && Number.isFinite(since)
          ? { updatedAt: { $gte: new Date(since) } }
          : options.jobId
            ? {}
            : { status: { $in: ['queued', 'running'] } }),
      };
      for (const job of await jobs.find(filter).sort({ updatedAt: 1 }).lean<JobRecord[]>()) {
        const shown = await describe(job);
        remember(job, shown);
        yield { id: eventId(job), job: shown };
      }
      for await (const [update] of updates as AsyncIterable<[JobRecord | typeof QUEUE_TICK]>) {
        if (update === QUEUE_TICK) {
          // Jobs ahead started, ended or arrived: a queued job's new place is news even at the same version.
          for (const { queued } of [...sent.values()]) {
            if (!queued) continue;
            const shown = await describe(queued.job);
            if (!queueNews(queued.shown, shown)) continue;
            queued.shown = shown;
            const { job } = queued;
            queueUpdates += 1;
            yield { id: `${eventId(job)}.q${queueUpdates}`, job: shown };
          }
          continue;
        }
        const id = update._id.toHexString();
        if ((sent.get(id)?.version ?? -1) >= update.version) continue;
        const shown = await describe(update);
        remember(update, shown);
        yield { id: eventId(update), job: shown };
      }
    } catch (error) {
      if (!options.signal.aborted && !deps.closing.aborted) throw error;
    } finally {
      ended.clear();
      unsubscribe();
      unwatch();
      unwatchQueue();
    }
  }

  return {
    create,

    async generate(ownerId, input, requestId) {
      const { prompt, imageAssetId, chatId, ...params } = input;
      const created = await create(
        ownerId,
        {
          ...(prompt === undefined ? {} : { prompt }),
          ...(imageAssetId === undefined ? {} : { imageAssetId }),
          ...(chatId ? { chatId } : {}),
          params: { ...params, quality: params.quality ?? 'standard', formats: ['glb', 'obj', 'ply'] },
        },
        requestId,
      );
      const signal = AbortSignal.timeout(deps.generateTimeoutMs);
      let finished: TJob | undefined = FINISHED.has(created.status) ? created : undefined;
      if (!finished) {
        for await (const event of watch(ownerId, { jobId: created.id, signal, withoutQueue: true })) {
          if (FINISHED.has(event.job.status)) {
            finished = event.job;
            break;
          }
        }
      }
      if (!finished && deps.closing.aborted)
        throw new ServiceUnavailable(
          `This server is shutting down; follow job ${created.id} at GET /api/jobs/${created.id}`,
        );
      if (!finished)
        throw new DomainError(
          'TIMEOUT',
          `The model is not ready after ${Math.round(deps.generateTimeoutMs / 1000)} s; follow job ${created.id} at GET /api/jobs/${created.id}`,
        );
      if (finished.status !== 'succeeded')
        throw new DomainError(
          'GENERATION_FAILED',
          finished.error?.message ?? `The job was ${finished.status}`,
        );
      const files: GenerateResult['files'] = {};
      for (const output of finished.outputs)
        if (output.kind === 'model' || output.kind === 'material')
          files[output.format as TMeshFormat] = output.url;
        else if (output.kind === 'texture' && output.format === 'png') files.png = output.url;
      return {
        id: finished.id,
        prompt: finished.prompt,
        files,
        assets: finished.outputs.map((output) => ({
          id: output.assetId,
          format: output.format,
          url: output.url,
        })),
      };
    },

    async list(ownerId, { status, chatId, page, limit }) {
      const found = await onPage(
        jobs
          .find({
            ownerId: new Types.ObjectId(ownerId),
            ...(status ? { status } : {}),
            ...(chatId ? { chatId: new Types.ObjectId(chatId) } : {}),
          })
          .sort({ createdAt: -1, _id: -1 }),
        { page, limit },
      ).lean<JobRecord[]>();
      return Promise.all(found.map(estimatedView));
    },

    get: async (ownerId, jobId) => estimatedView(await owned(ownerId, jobId)),

    async cancel(ownerId, jobId) {
      const job = await owned(ownerId, jobId);
      if (FINISHED.has(job.status))
        throw new DomainError(
          'JOB_FINISHED',
          `The job already ${job.status === 'canceled' ? 'was canceled' : job.status}; only queued or running jobs can be canceled`,
        );
      const changed = await queue.requestCancel(ownedFilter(ownerId, jobId));
      if (!changed) {
        const now = await owned(ownerId, jobId);
        throw new DomainError(
          'JOB_FINISHED',
          `The job already ${now.status}; only queued or running jobs can be canceled`,
        );
      }
      return estimatedView(changed);
    },

    async adminUpdate(actor, { id, status, progress, error }) {
      const _id = new Types.ObjectId(id);
      const before = await jobs.findById(_id).lean<JobRecord>();
      if (!before) throw new NotFound('Job not found');
      const changed =
        status === 'canceled'
          ? await queue.requestCancel({ _id })
          : await queue.adminChange(_id, { status, progress, error });
      if (!changed)
        throw new Conflict(
          `The job is ${before.status}; ${status ? `it cannot become ${status}` : 'only a running job has progress to set'}`,
        );
      if (changed.status === 'queued') deps.onQueued();
      const fields = (job: JobRecord) => ({
        status: job.status,
        progress: job.progress,
        error: job.error ?? null,
        attempts: job.attempts,
      });
      await deps.audit.record({
        action: status === 'canceled' ? 'job.canceled_by_admin' : 'job.updated_by_admin',
        actor,
        target: { type: 'job', id, label: (before.prompt || 'image job').slice(0, 100) },
        changes: { before: fields(before), after: fields(changed) },
        details: { ownerId: before.ownerId.toHexString(), requested: { status, progress, error } },
      });
      return estimatedView(changed);
    },

    watch,
    subscribe,
  };
}
