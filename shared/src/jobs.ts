import { z } from 'zod';

import { ZAttachment } from './assets.js';
import { ZObjectId } from './auth.js';
import { queryInteger, ZPage } from './query-params.js';
import { ZQueueEstimate } from './queue-estimates.js';

export const JobStatuses = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export const ZJobStatus = z.enum(JobStatuses);

/** How many jobs are in each state. */
export const ZJobStatusCounts = z.object({
  queued: z.number().int(),
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  canceled: z.number().int(),
});
export type TJobStatusCounts = z.infer<typeof ZJobStatusCounts>;
export type TJobStatus = z.infer<typeof ZJobStatus>;

/** What a generation job starts from: a prompt, an image, or both. */
export const JobInputTypes = ['text', 'image', 'text+image'] as const;
export const ZJobInputType = z.enum(JobInputTypes);
export type TJobInputType = z.infer<typeof ZJobInputType>;

/** How many jobs there are of each kind. */
export const ZJobKindCounts = z.object({
  generate: z.number().int(),
  simplify: z.number().int(),
  weld: z.number().int(),
  recenter: z.number().int(),
  convert: z.number().int(),
});
export type TJobKindCounts = z.infer<typeof ZJobKindCounts>;

/** How many generation jobs were made from each kind of input. */
export const ZJobInputTypeCounts = z.object({
  text: z.number().int(),
  image: z.number().int(),
  'text+image': z.number().int(),
});
export type TJobInputTypeCounts = z.infer<typeof ZJobInputTypeCounts>;

export const QualityPresets = ['draft', 'standard', 'high'] as const;
export const OutputFormats = ['glb', 'obj', 'ply'] as const;

/** What a job does: generate a model, or post-process an existing result (see ZPostprocessInput). */
export const JobKinds = ['generate', 'simplify', 'weld', 'recenter', 'convert'] as const;
export const ZJobKind = z.enum(JobKinds);
export type TJobKind = z.infer<typeof ZJobKind>;
/** The post-processing kinds: each makes new assets from one existing model asset. */
export const PostprocessKinds = ['simplify', 'weld', 'recenter', 'convert'] as const;
export type TPostprocessKind = (typeof PostprocessKinds)[number];

/** Bounds of a simplification's ratio (share of the source's triangles kept). */
export const SIMPLIFY_RATIO_MIN = 0.01;
export const SIMPLIFY_RATIO_MAX = 0.99;
/** The fewest triangles a simplification may aim at. */
export const SIMPLIFY_TARGET_MIN = 4;

export const ZPrompt = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(600, 'must be at most 600 characters');

/** Generation options; unknown keys are refused. `obj` output brings its `mtl`. */
export const ZGenerationParams = z.strictObject({
  seed: z
    .number()
    .int()
    .min(0)
    .max(4_294_967_295)
    .optional()
    .describe('Same prompt, same seed: the same model'),
  quality: z.enum(QualityPresets).default('standard'),
  formats: z.array(z.enum(OutputFormats)).min(1).max(OutputFormats.length).default(['glb', 'obj', 'ply']),
  modelServer: z
    .string()
    .trim()
    .min(1)
    .max(40)
    .optional()
    .describe('Name of a configured model server; the default one otherwise'),
  guidanceScale: z.number().min(0).max(100).optional(),
  steps: z.number().int().min(1).max(500).optional(),
  frameSize: z.number().int().min(32).max(2048).optional(),
});
export type TGenerationParams = z.infer<typeof ZGenerationParams>;

export const ZJobError = z.object({ code: z.string(), message: z.string() });

/** A post-processing job's source and operation, as job views show it. */
export const ZPostprocessView = z.object({
  sourceAssetId: z.string(),
  sourceJobId: z.string().nullable().describe('The job that made the source asset, if any'),
  ratio: z.number().optional().describe('simplify: share of the triangles kept'),
  targetTriangles: z.number().int().optional().describe('simplify: triangles aimed at'),
  format: z.enum(OutputFormats).describe('Format of the new asset (obj brings its mtl)'),
});
export type TPostprocessView = z.infer<typeof ZPostprocessView>;

export const ZJob = z.object({
  _id: z.string(),
  id: z.string(),
  kind: ZJobKind.describe('generate, or a post-processing kind'),
  chatId: z.string().nullable(),
  prompt: z
    .string()
    .describe(
      "A generation's prompt (empty when made from an image alone); for post-processing, the source job's prompt (or the source file name)",
    ),
  inputType: ZJobInputType,
  params: z.object({
    seed: z.number().int(),
    quality: z.enum(QualityPresets),
    formats: z.array(z.enum(OutputFormats)),
    modelServer: z.string(),
    guidanceScale: z.number().optional(),
    steps: z.number().int().optional(),
    frameSize: z.number().int().optional(),
    /** The input image (an asset of kind `image`), when the job has one. */
    imageAssetId: z.string().optional(),
  }),
  postprocess: ZPostprocessView.nullable().describe(
    'Post-processing jobs: the source asset and the operation',
  ),
  status: ZJobStatus,
  progress: z.number().int().min(0).max(100),
  attempts: z.number().int(),
  error: ZJobError.nullable(),
  outputs: z.array(ZAttachment),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  computeMs: z.number().int().nullable(),
  /** Grows with every change; live updates carry it so clients keep the newest. */
  version: z.number().int(),
  ...ZQueueEstimate.shape,
});
export type TJob = z.infer<typeof ZJob>;

const ZImageAssetId = ZObjectId.describe(
  'An input image you uploaded (POST /assets/images); the prompt is optional with it',
);

/** A job needs a prompt, an image, or both. */
const withPromptOrImage = <T extends { prompt?: string | undefined; imageAssetId?: string | undefined }>(
  input: T,
): boolean => input.prompt !== undefined || input.imageAssetId !== undefined;
const PROMPT_OR_IMAGE = { message: 'give a prompt, an imageAssetId, or both', path: ['prompt'] };

export const ZCreateJobInput = z
  .strictObject({
    prompt: ZPrompt.optional(),
    imageAssetId: ZImageAssetId.optional(),
    chatId: ZObjectId.optional().describe('The chat to post in; a new chat named after the prompt otherwise'),
    params: ZGenerationParams.optional(),
    options: ZGenerationParams.optional().describe('Same as params (the name generation.create used)'),
    idempotencyKey: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('Retrying with the same key returns the same job'),
  })
  .refine(withPromptOrImage, PROMPT_OR_IMAGE);
export type TCreateJobInput = z.infer<typeof ZCreateJobInput>;

/**
 * POST /assets/{id}/postprocess: a job making a new asset from a model asset (glb, obj or ply) the caller
 * owns. `simplify` takes exactly one of `ratio` or `targetTriangles`; `convert` takes the `format`; the others
 * write the source's format unless `format` says otherwise.
 */
export const ZPostprocessInput = z
  .strictObject({
    id: ZObjectId.describe('The source asset'),
    kind: z.enum(PostprocessKinds),
    ratio: z
      .number()
      .min(SIMPLIFY_RATIO_MIN)
      .max(SIMPLIFY_RATIO_MAX)
      .optional()
      .describe(`simplify: share of the triangles to keep (${SIMPLIFY_RATIO_MIN}-${SIMPLIFY_RATIO_MAX})`),
    targetTriangles: z
      .number()
      .int()
      .min(SIMPLIFY_TARGET_MIN)
      .optional()
      .describe("simplify: triangles to keep at most, below the source's count"),
    format: z.enum(OutputFormats).optional().describe("The new asset's format; the source's by default"),
    idempotencyKey: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('Retrying with the same key returns the same job'),
  })
  .refine(
    (input) =>
      input.kind === 'simplify' || (input.ratio === undefined && input.targetTriangles === undefined),
    {
      message: 'ratio and targetTriangles go with kind "simplify"',
      path: ['ratio'],
    },
  )
  .refine(
    (input) =>
      input.kind !== 'simplify' || (input.ratio === undefined) !== (input.targetTriangles === undefined),
    {
      message: 'simplify takes either ratio or targetTriangles',
      path: ['ratio'],
    },
  )
  .refine((input) => input.kind !== 'convert' || input.format !== undefined, {
    message: 'convert needs the format to write',
    path: ['format'],
  });
export type TPostprocessInput = z.infer<typeof ZPostprocessInput>;

export const ZListJobsInput = z.strictObject({
  status: ZJobStatus.optional(),
  chatId: ZObjectId.optional(),
  page: ZPage,
  limit: queryInteger(1, 200).default(50),
});

export const ZJobIdInput = z.strictObject({ id: ZObjectId });

/** POST /api/generate: the blocking convenience, answering once the model is ready. */
export const ZGenerateInput = z
  .strictObject({
    prompt: ZPrompt.optional(),
    imageAssetId: ZImageAssetId.optional(),
    chatId: ZObjectId.optional(),
    seed: z.number().int().min(0).max(4_294_967_295).optional(),
    quality: z.enum(QualityPresets).optional(),
    modelServer: z.string().trim().min(1).max(40).optional(),
    guidanceScale: z.number().min(0).max(100).optional(),
    steps: z.number().int().min(1).max(500).optional(),
    frameSize: z.number().int().min(32).max(2048).optional(),
  })
  .refine(withPromptOrImage, PROMPT_OR_IMAGE);

export const ZGenerateResult = z.object({
  id: z.string().describe('The job id'),
  prompt: z.string(),
  files: z
    .object({
      glb: z.string().optional(),
      obj: z.string().optional(),
      mtl: z.string().optional(),
      ply: z.string().optional(),
      png: z.string().optional().describe("A textured model's texture"),
    })
    .describe('Signed URLs by format'),
  assets: z.array(z.object({ id: z.string(), format: z.string(), url: z.string() })),
});

/** A live update of one job, as subscriptions deliver it. */
export const ZJobUpdate = ZJob;
export type TJobUpdate = TJob;

export const ZWatchJobsInput = z.strictObject({
  jobId: ZObjectId.optional().describe("One job; all of the caller's jobs otherwise"),
  lastEventId: z.string().max(200).optional().describe('Resume after this event id'),
});

/**
 * PATCH /jobs/:id (admins): `queued` retries a failed or canceled job (attempts start over) or requeues a
 * stuck running one; `canceled` cancels; `failed` ends a queued or running job with `error`; `progress`
 * sets a running job's progress. A job cannot be marked succeeded by hand: its outputs come from a worker.
 */
export const ZAdminJobUpdateInput = z
  .strictObject({
    id: ZObjectId,
    status: z.enum(['queued', 'canceled', 'failed']).optional(),
    progress: z.number().int().min(0).max(100).optional(),
    error: z
      .strictObject({ code: z.string().trim().min(1).max(60), message: z.string().trim().min(1).max(500) })
      .optional(),
  })
  .refine((input) => input.status !== undefined || input.progress !== undefined, {
    message: 'give a status or a progress',
    path: ['status'],
  })
  .refine((input) => input.status === 'failed' || input.error === undefined, {
    message: 'an error goes with status "failed"',
    path: ['error'],
  });
