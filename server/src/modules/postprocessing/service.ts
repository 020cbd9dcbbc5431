import { Types } from 'mongoose';

import { PostprocessKinds, type TJob, type TPostprocessInput, type TPostprocessView } from '@gen3d/shared';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import { BadRequest, DomainError, NotFound } from '../../domain-errors.js';
import type { JobModel, JobRecord } from '../../jobs/job-model.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { AssetRecord } from '../assets/model.js';
import type { AssetService } from '../assets/service.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { ChatService } from '../chats/service.js';
import type { GenerationService } from '../generation/service.js';
import type { StoredObjectCaps } from '../quotas/stored-object-caps.js';

/** What post-processing jobs name as their `params.modelServer`: they run on this server's mesh workers. */
export const POSTPROCESSING_RUNNER = 'postprocessing';

const MODEL_FORMATS = new Set(['glb', 'obj', 'ply']);

export interface PostprocessingDeps {
  jobs: JobModel;
  queue: JobQueue;
  chats: ChatService;
  assets: AssetService;
  /** Reads jobs as their owners see them (queue position and ETA included). */
  generation: Pick<GenerationService, 'get'>;
  audit: AuditLog;
  caps: StoredObjectCaps;
  /** Post-processing jobs per user per UTC day. */
  dailyQuota: number;
  /** The most triangles a source may have. */
  maxSourceTriangles: number;
  /** Tells this instance's workers a job is waiting. */
  onQueued(): void;
}

export interface PostprocessingService {
  /**
   * Queues a post-processing job on a model asset the caller owns (NOT_FOUND otherwise); the same idempotency
   * key gives the same job. Audited as `asset.postprocessed`.
   */
  create(
    caller: { userId: string; actor: Actor },
    input: TPostprocessInput,
    requestId?: string,
  ): Promise<TJob>;
}

function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export function createPostprocessingService(deps: PostprocessingDeps): PostprocessingService {
  const { jobs, assets } = deps;

  /** The operation as the job keeps it, after checking it against its source. */
  function operationOf(input: TPostprocessInput, source: AssetRecord): NonNullable<JobRecord['postprocess']> {
    if (!MODEL_FORMATS.has(source.format) || source.kind !== 'model')
      throw new DomainError(
        'ASSET_NOT_POSTPROCESSABLE',
        `Asset ${input.id} is a ${source.format} ${source.kind} file; only model assets (glb, obj, ply) can be post-processed`,
      );
    const triangles = source.triangles ?? 0;
    if (triangles > deps.maxSourceTriangles)
      throw new DomainError(
        'POSTPROCESS_SOURCE_TOO_LARGE',
        `Asset ${input.id} has ${triangles} triangles; post-processing takes sources of at most ${deps.maxSourceTriangles}`,
      );
    if (input.targetTriangles !== undefined && input.targetTriangles >= triangles)
      throw new DomainError(
        'POSTPROCESS_TARGET_TOO_HIGH',
        `targetTriangles (${input.targetTriangles}) must be below the source's ${triangles} triangles`,
      );
    const format = input.format ?? (source.format as TPostprocessView['format']);
    if (input.kind === 'convert' && format === source.format)
      throw new BadRequest(`Asset ${input.id} already is ${format}; convert it to another format`, [
        { path: 'format', message: 'the source is already in this format' },
      ]);
    return {
      sourceAssetId: source._id,
      sourceJobId: source.jobId ?? null,
      ...(input.ratio === undefined ? {} : { ratio: input.ratio }),
      ...(input.targetTriangles === undefined ? {} : { targetTriangles: input.targetTriangles }),
      format,
    };
  }

  async function checkQuota(owner: Types.ObjectId): Promise<void> {
    const now = new Date();
    const dayStart = startOfUtcDay(now);
    const used = await jobs.countDocuments({
      ownerId: owner,
      createdAt: { $gte: dayStart },
      kind: { $in: PostprocessKinds },
    });
    if (used < deps.dailyQuota) return;
    throw new DomainError(
      'QUOTA_EXCEEDED',
      `You have used today's ${deps.dailyQuota} post-processing jobs; the quota resets at midnight UTC`,
      { retryAfterSeconds: Math.ceil((dayStart.getTime() + 86_400_000 - now.getTime()) / 1000) },
    );
  }

  /** The source's chat, or a new one when it has none (an upload) or it was deleted. */
  async function chatFor(ownerId: string, source: AssetRecord): Promise<Types.ObjectId> {
    if (source.chatId) {
      const chat = await deps.chats.owned(ownerId, source.chatId.toHexString()).catch((error: unknown) => {
        if (error instanceof NotFound) return undefined;
        throw error;
      });
      if (chat) return chat._id;
    }
    const created = await deps.chats.create(ownerId, `Post-processing of ${source.fileName}`);
    return new Types.ObjectId(created.id);
  }

  /** What the job is of: the source job's prompt, or the source's file name. */
  async function promptOf(source: AssetRecord): Promise<string> {
    const sourceJob = source.jobId
      ? await jobs.findById(source.jobId, { prompt: 1 }).lean<Pick<JobRecord, 'prompt'>>()
      : null;
    return sourceJob?.prompt ?? source.fileName;
  }

  return {
    async create({ userId, actor }, input, requestId) {
      const owner = new Types.ObjectId(userId);
      const key = input.idempotencyKey ?? null;
      if (key) {
        const existing = await jobs.findOne({ ownerId: owner, idempotencyKey: key }, { _id: 1 }).lean();
        if (existing) return deps.generation.get(userId, existing._id.toHexString());
      }
      const [source] = (await assets.ownedBy(userId, [input.id])) as [AssetRecord];
      const postprocess = operationOf(input, source);
      await checkQuota(owner);
      const jobId = new Types.ObjectId();
      try {
        // The answer is one message; its files need room too.
        await deps.caps.withRoomForMessages(userId, 1, () =>
          deps.caps.withRoomForAssetBytes(userId, 1, async () =>
            deps.queue.enqueue({
              _id: jobId,
              ownerId: owner,
              chatId: await chatFor(userId, source),
              prompt: await promptOf(source),
              kind: input.kind,
              postprocess,
              params: {
                seed: 0,
                quality: 'standard',
                formats: [postprocess.format],
                modelServer: POSTPROCESSING_RUNNER,
              },
              idempotencyKey: key,
              userMessageId: null,
              requestId: requestId ?? null,
            }),
          ),
        );
      } catch (error) {
        if (key && isDuplicateKeyError(error)) {
          const winner = await jobs.findOne({ ownerId: owner, idempotencyKey: key }, { _id: 1 }).lean();
          if (winner) return deps.generation.get(userId, winner._id.toHexString());
        }
        throw error;
      }
      deps.onQueued();
      await deps.audit.record({
        action: 'asset.postprocessed',
        actor,
        target: { type: 'asset', id: input.id, label: `${source.format} ${source.fileName}` },
        details: {
          jobId: jobId.toHexString(),
          kind: input.kind,
          format: postprocess.format,
          ...(input.ratio === undefined ? {} : { ratio: input.ratio }),
          ...(input.targetTriangles === undefined ? {} : { targetTriangles: input.targetTriangles }),
          sourceTriangles: source.triangles ?? null,
        },
      });
      return deps.generation.get(userId, jobId.toHexString());
    },
  };
}
