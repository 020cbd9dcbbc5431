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

export const QualityPresets = ['draft', 'standard', 'high'] as const;
export const OutputFormats = ['glb', 'obj', 'ply'] as const;

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

export const ZJob = z.object({
  _id: z.string(),
  id: z.string(),
  chatId: z.string().nullable(),
  prompt: z.string(),
  params: z.object({
    seed: z.number().int(),
    quality: z.enum(QualityPresets),
    formats: z.array(z.enum(OutputFormats)),
    modelServer: z.string(),
    guidanceScale: z.number().optional(),
    steps: z.number().int().optional(),
    frameSize: z.number().int().optional(),
  }),
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

export const ZCreateJobInput = z.strictObject({
  prompt: ZPrompt,
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
});
export type TCreateJobInput = z.infer<typeof ZCreateJobInput>;

export const ZListJobsInput = z.strictObject({
  status: ZJobStatus.optional(),
  chatId: ZObjectId.optional(),
  page: ZPage,
  limit: queryInteger(1, 200).default(50),
});

export const ZJobIdInput = z.strictObject({ id: ZObjectId });

/** POST /api/generate: the blocking convenience, answering once the model is ready. */
export const ZGenerateInput = z.strictObject({
  prompt: ZPrompt,
  chatId: ZObjectId.optional(),
  seed: z.number().int().min(0).max(4_294_967_295).optional(),
  quality: z.enum(QualityPresets).optional(),
  modelServer: z.string().trim().min(1).max(40).optional(),
  guidanceScale: z.number().min(0).max(100).optional(),
  steps: z.number().int().min(1).max(500).optional(),
  frameSize: z.number().int().min(32).max(2048).optional(),
});

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
