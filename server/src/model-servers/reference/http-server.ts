import { randomUUID } from 'node:crypto';

import Fastify, { type FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';

import { QualityPresets } from '@gen3d/shared';

import type { GeneratedModel } from './generate-files.js';
import type { DecodedImage } from './image-input.js';
import { IMAGE_MEDIA_TYPES, MAX_IMAGE_BYTES } from './image-limits.js';

/**
 * The reference model server's HTTP contract (v1), the one the `reference` adapter speaks:
 * POST /v1/generations {prompt?, image?: {data (base64), mediaType}, seed?, quality?} -> 202 {id, status}
 *   (a prompt, an image or both; a refused request answers 4xx {error, code})
 * GET /v1/generations/:id -> {id, status, progress, interpretation?, files?: [{name, contentType, bytes}], error?}
 * GET /v1/generations/:id/files/:name -> the file
 * DELETE /v1/generations/:id -> {id, status: "canceled"}
 * GET /health -> {ok: true, generator: "procedural"}
 */
export interface ReferenceModelServerOptions {
  /** How long a generation takes, with progress spread over it (0: done at once). */
  durationMs: number;
  /** Generations are forgotten this long after they finish... */
  retentionMs?: number;
  /** ...or sooner, oldest first, when more than this many are kept (their files live in memory). */
  maxKept?: number;
}

/** Base64 characters of the largest image taken: four for every three bytes. */
const MAX_IMAGE_BASE64 = Math.ceil(MAX_IMAGE_BYTES / 3) * 4;
/** Request bodies up to this size are read: the largest image's base64 and room for the rest. */
const BODY_LIMIT = MAX_IMAGE_BASE64 + 64 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const ZGenerationRequest = z
  .object({
    prompt: z.string().trim().min(1).max(2000).optional(),
    image: z
      .object({
        // Checked by hand below: an oversized image answers 413, bad base64 its own code.
        data: z.string(),
        mediaType: z.enum(Object.keys(IMAGE_MEDIA_TYPES) as [keyof typeof IMAGE_MEDIA_TYPES]),
      })
      .optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(0),
    quality: z.enum(QualityPresets).default('standard'),
  })
  .refine((request) => request.prompt !== undefined || request.image !== undefined, {
    message: 'give a prompt, an image or both',
    path: ['prompt'],
  });

type Status = 'running' | 'succeeded' | 'failed' | 'canceled';

interface Generation {
  id: string;
  startedAt: number;
  status: Status;
  model: Promise<GeneratedModel>;
  /** Why a failed generation failed. */
  error?: string;
}

/** A 4xx answer: the plain words, and a code a client can act on. */
interface Refusal {
  statusCode: number;
  code: string;
  error: string;
}

/** A request's image, decoded here in full (so a broken one is refused at once), or why it is refused. */
async function imageOf(
  request: z.infer<typeof ZGenerationRequest>,
): Promise<{ image: DecodedImage | undefined } | Refusal> {
  if (!request.image) return { image: undefined };
  const { data, mediaType } = request.image;
  if (data.length > MAX_IMAGE_BASE64)
    return {
      statusCode: 413,
      code: 'IMAGE_TOO_LARGE',
      error: `image: over the ${MAX_IMAGE_BYTES}-byte limit`,
    };
  if (data.length === 0 || !BASE64.test(data))
    return { statusCode: 400, code: 'IMAGE_NOT_BASE64', error: 'image.data: not base64' };
  // sharp, like the mesh writers, loads with the first image, not at start-up.
  const { decodeImage, ImageInputError, inspectImage } = await import('./image-input.js');
  const bytes = Buffer.from(data, 'base64');
  try {
    await inspectImage(bytes, mediaType);
    return { image: await decodeImage(bytes) };
  } catch (error) {
    if (error instanceof ImageInputError)
      return { statusCode: error.statusCode, code: error.code, error: error.message };
    throw error;
  }
}

/** Progress follows an ease-out curve, as diffusion models' step counters feel: quick first, slower at the end. */
function progressAt(elapsedMs: number, durationMs: number): number {
  if (durationMs <= 0) return 100;
  const fraction = Math.min(1, elapsedMs / durationMs);
  return Math.min(99, Math.round(100 * (1 - (1 - fraction) ** 2)));
}

/** A Fastify app serving the procedural generator; `listen` it on its own port. */
export function buildReferenceModelServer(options: ReferenceModelServerOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  const retentionMs = options.retentionMs ?? 10 * 60_000;
  const generations = new LRUCache<string, Generation>({
    max: options.maxKept ?? 1_000,
    ttl: options.durationMs + retentionMs,
    ttlAutopurge: true,
  });

  async function current(generation: Generation): Promise<{ status: Status; progress: number }> {
    if (generation.status !== 'running')
      return { status: generation.status, progress: generation.status === 'succeeded' ? 100 : 0 };
    const elapsed = Date.now() - generation.startedAt;
    if (elapsed < options.durationMs)
      return { status: 'running', progress: progressAt(elapsed, options.durationMs) };
    await generation.model.then(
      () => {
        if (generation.status === 'running') generation.status = 'succeeded';
      },
      () => {
        generation.status = 'failed';
        generation.error = 'the generator could not make a mesh of this input';
      },
    );
    return current(generation);
  }

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const statusCode = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    const code = statusCode === 413 ? 'BODY_TOO_LARGE' : statusCode === 500 ? 'INTERNAL' : 'INVALID_REQUEST';
    void reply.code(statusCode).send({ error: statusCode === 500 ? 'internal error' : error.message, code });
  });

  app.get('/health', async () => ({
    ok: true,
    generator: 'procedural',
    note: 'gen3d reference generator: shapes from prompt words, not a neural model',
  }));

  app.post('/v1/generations', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const parsed = ZGenerationRequest.safeParse(request.body);
    if (!parsed.success)
      return reply.code(400).send({
        error: parsed.error.issues
          .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
          .join('; '),
        code: 'INVALID_REQUEST',
      });
    const decoded = await imageOf(parsed.data);
    if ('statusCode' in decoded) {
      const { statusCode, ...refusal } = decoded;
      return reply.code(statusCode).send(refusal);
    }
    const { prompt, seed, quality } = parsed.data;
    const { image } = decoded;
    const id = randomUUID();
    // The mesh writers (glTF-Transform and friends) load with the first generation, not at start-up.
    const model = import('./generate-files.js').then(({ generateModelFiles, generateImageModelFiles }) =>
      image
        ? generateImageModelFiles(image, prompt, seed, quality)
        : generateModelFiles(prompt ?? '', seed, quality),
    );
    model.catch(() => undefined);
    generations.set(id, { id, startedAt: Date.now(), status: 'running', model });
    return reply.code(202).send({ id, status: 'running' });
  });

  app.get<{ Params: { id: string } }>('/v1/generations/:id', async (request, reply) => {
    const generation = generations.get(request.params.id);
    if (!generation) return reply.code(404).send({ error: 'no such generation' });
    const { status, progress } = await current(generation);
    if (status === 'failed') return { id: generation.id, status, progress, error: generation.error };
    if (status !== 'succeeded') return { id: generation.id, status, progress };
    const model = await generation.model;
    return {
      id: generation.id,
      status,
      progress,
      interpretation: model.interpretation,
      stats: model.stats,
      files: model.files.map((file) => ({
        name: file.name,
        contentType: file.contentType,
        bytes: file.bytes.byteLength,
      })),
    };
  });

  app.get<{ Params: { id: string; name: string } }>(
    '/v1/generations/:id/files/:name',
    async (request, reply) => {
      const generation = generations.get(request.params.id);
      if (!generation || (await current(generation)).status !== 'succeeded')
        return reply.code(404).send({ error: 'no finished generation with this id' });
      const file = (await generation.model).files.find((candidate) => candidate.name === request.params.name);
      if (!file) return reply.code(404).send({ error: 'no such file' });
      return reply
        .type(file.contentType)
        .send(Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength));
    },
  );

  app.delete<{ Params: { id: string } }>('/v1/generations/:id', async (request, reply) => {
    const generation = generations.get(request.params.id);
    if (!generation) return reply.code(404).send({ error: 'no such generation' });
    if (generation.status === 'running') generation.status = 'canceled';
    return { id: generation.id, status: generation.status };
  });

  app.addHook('onClose', async () => {
    generations.clear();
  });
  return app;
}
