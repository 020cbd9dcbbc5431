import { randomUUID } from 'node:crypto';

import Fastify, { type FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';

import { QualityPresets } from '@gen3d/shared';

import type { GeneratedModel } from './generate-files.js';

/**
 * The reference model server's HTTP contract (v1), the one the `reference` adapter speaks:
 * POST /v1/generations {prompt, seed?, quality?} -> 202 {id, status}
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

const ZGenerationRequest = z.object({
  prompt: z.string().trim().min(1).max(2000),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(0),
  quality: z.enum(QualityPresets).default('standard'),
});

type Status = 'running' | 'succeeded' | 'canceled';

interface Generation {
  id: string;
  startedAt: number;
  status: Status;
  model: Promise<GeneratedModel>;
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
    await generation.model;
    if (generation.status === 'running') generation.status = 'succeeded';
    return current(generation);
  }

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const statusCode = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    void reply.code(statusCode).send({ error: statusCode === 500 ? 'internal error' : error.message });
  });

  app.get('/health', async () => ({
    ok: true,
    generator: 'procedural',
    note: 'gen3d reference generator: shapes from prompt words, not a neural model',
  }));

  app.post('/v1/generations', async (request, reply) => {
    const parsed = ZGenerationRequest.safeParse(request.body);
    if (!parsed.success)
      return reply.code(400).send({
        error: parsed.error.issues
          .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
          .join('; '),
      });
    const { prompt, seed, quality } = parsed.data;
    const id = randomUUID();
    // The mesh writers (glTF-Transform and friends) load with the first generation, not at start-up.
    const model = import('./generate-files.js').then(({ generateModelFiles }) =>
      generateModelFiles(prompt, seed, quality),
    );
    model.catch(() => undefined);
    generations.set(id, { id, startedAt: Date.now(), status: 'running', model });
    return reply.code(202).send({ id, status: 'running' });
  });

  app.get<{ Params: { id: string } }>('/v1/generations/:id', async (request, reply) => {
    const generation = generations.get(request.params.id);
    if (!generation) return reply.code(404).send({ error: 'no such generation' });
    const { status, progress } = await current(generation);
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
