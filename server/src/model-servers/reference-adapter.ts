import { z } from 'zod';

import type { TAssetFormat } from '@gen3d/shared';

import type { ModelHttpClient } from './http-client.js';
import { ModelServerError, wantedFormats, type ModelFile, type ModelServer } from './model-server.js';
import { downloadResultFiles } from './remote-files.js';

const ZSubmitted = z.object({ id: z.string().min(1) });
const ZStatus = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']),
  progress: z.number().min(0).max(100),
  error: z.string().optional(),
  files: z.array(z.object({ name: z.string() })).optional(),
});

const ZHealth = z.object({ ok: z.literal(true), generator: z.string().optional() });

const FILE_OF_FORMAT: Partial<Record<TAssetFormat, string>> = {
  glb: 'mesh.glb',
  obj: 'mesh.obj',
  mtl: 'mesh.mtl',
  ply: 'mesh.ply',
};
/** A textured model's texture, which its MTL names (its GLB embeds it). */
const TEXTURE_FILE = 'texture.png';

/** The reference model server's contract (v1): see model-servers/reference/http-server.ts. */
export function createReferenceModelServer(
  name: string,
  baseUrl: string,
  http: ModelHttpClient,
): ModelServer {
  const taskUrl = (taskId: string): string => `${baseUrl}/v1/generations/${encodeURIComponent(taskId)}`;
  return {
    name,
    inputs: { text: true, image: true },
    async submit(request, signal) {
      const body = {
        prompt: request.prompt,
        seed: request.seed,
        quality: request.quality,
        image: request.image && {
          data: Buffer.from(
            request.image.bytes.buffer,
            request.image.bytes.byteOffset,
            request.image.bytes.byteLength,
          ).toString('base64'),
          mediaType: request.image.mediaType,
        },
      };
      return (await http.json({ method: 'POST', url: `${baseUrl}/v1/generations`, signal, body }, ZSubmitted))
        .id;
    },
    async poll(taskId, request, signal) {
      const answer = await http.json({ method: 'GET', url: taskUrl(taskId), signal }, ZStatus);
      switch (answer.status) {
        case 'queued':
        case 'running':
          return { state: answer.status, progress: answer.progress };
        case 'failed':
        case 'canceled':
          return { state: answer.status, message: answer.error };
        case 'succeeded': {
          const files: ModelFile[] = await downloadResultFiles(
            http,
            request,
            (format) => {
              const file = FILE_OF_FORMAT[format];
              return file && `${taskUrl(taskId)}/files/${file}`;
            },
            signal,
          );
          const textured = answer.files?.some((file) => file.name === TEXTURE_FILE) ?? false;
          if (textured && wantedFormats(request).includes('mtl')) {
            // Gone (404) is no failure: the texture is taken from the GLB instead.
            const texture = await http
              .download(`${taskUrl(taskId)}/files/${TEXTURE_FILE}`, signal)
              .catch((error: unknown) => {
                if (error instanceof ModelServerError && error.http?.status === 404) return undefined;
                throw error;
              });
            if (texture) files.push({ format: 'png', bytes: texture });
          }
          return { state: 'succeeded', files };
        }
      }
    },
    async cancel(taskId) {
      await http
        .send({ method: 'DELETE', url: taskUrl(taskId), signal: AbortSignal.timeout(5000) })
        .catch(() => undefined);
    },
    async check(signal) {
      const health = await http.json({ method: 'GET', url: `${baseUrl}/health`, signal }, ZHealth);
      return { detail: health.generator };
    },
  };
}
