import { z } from 'zod';

import type { TMeshFormat } from '@gen3d/shared';

import { loadSharp } from '../infra/load-sharp.js';
import { AddressRefusedError } from '../infra/public-addresses.js';
import type { ModelHttpClient } from './http-client.js';
import {
  ModelServerError,
  promptOf,
  type ModelImage,
  type ModelRequest,
  type ModelServer,
} from './model-server.js';
import { downloadResultFiles } from './remote-files.js';

export interface MeshyOptions {
  /** `https://api.meshy.ai` in production. */
  baseUrl: string;
  apiKey: string;
}

const ZCreated = z.object({ result: z.string().min(1) });
const ZTask = z.object({
  status: z.enum(['PENDING', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELED']),
  progress: z.number().min(0).max(100).optional(),
  model_urls: z.record(z.string(), z.string().nullable()).nullable().optional(),
  task_error: z.object({ message: z.string().nullable().optional() }).nullable().optional(),
});
const ZErrorBody = z.object({ message: z.string() });
const ZBalance = z.object({ balance: z.number() });

/** Target face counts per quality preset. */
const POLYCOUNT: Record<ModelRequest['quality'], number> = { draft: 10_000, standard: 30_000, high: 100_000 };

/** Image tasks' ids carry this prefix, so polls and cancels go to the image-to-3D routes. */
const IMAGE_TASK = 'image:';

/**
 * The image as the `image_url` data URI image-to-3D takes. Its v1 API reads JPEG and PNG: a WebP is sent as
 * a lossless PNG of the same pixels.
 */
async function imageDataUri(image: ModelImage): Promise<string> {
  if (image.mediaType !== 'image/webp')
    return `data:${image.mediaType};base64,${Buffer.from(image.bytes).toString('base64')}`;
  const sharp = await loadSharp();
  const png = await sharp(image.bytes).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** Meshy's 4xx answers carry `{message}`; those that retrying cannot fix are said in plain words. */
function explained(error: unknown): unknown {
  if (
    !(error instanceof ModelServerError) ||
    !error.http ||
    error.http.status >= 500 ||
    error.http.status === 429
  )
    return error;
  let said = '';
  try {
    const parsed = ZErrorBody.safeParse(JSON.parse(error.http.body));
    if (parsed.success) said = parsed.data.message;
  } catch {
    // Not JSON: the status alone explains it.
  }
  const { status } = error.http;
  if (status === 401 || status === 403)
    return new ModelServerError(
      'MODEL_SERVER_REJECTED',
      `Meshy refused the configured API key (${status})${said ? `: ${said}` : ''}`,
      false,
      error.http,
    );
  if (status === 402)
    return new ModelServerError(
      'MODEL_SERVER_REJECTED',
      `The Meshy account has no credits left (402)${said ? `: ${said}` : ''}`,
      false,
      error.http,
    );
  if (status === 404)
    return new ModelServerError(
      'GENERATION_FAILED',
      'Meshy no longer knows this task (404)',
      true,
      error.http,
    );
  return new ModelServerError(
    'MODEL_SERVER_REJECTED',
    `Meshy rejected the request (${status})${said ? `: ${said}` : ''}`,
    false,
    error.http,
  );
}

/**
 * Meshy's cloud API, authenticated with an API key: text to 3D (v2, preview mode) for prompts, image to 3D
 * (v1, textured, the image as a data URI) for images. Result links expire, so a
 * succeeded task's files are copied in the same poll that sees it succeed. Canceling deletes the task.
 */
export function createMeshyModelServer(
  name: string,
  { baseUrl, apiKey }: MeshyOptions,
  http: ModelHttpClient,
  publicHttp: ModelHttpClient,
): ModelServer {
  // Result links come from Meshy's answers: unless they are on Meshy's own (configured) origin, they are
  // fetched from public addresses only, like any URL a third party hands us.
  const apiOrigin = new URL(baseUrl).origin;
  const resultFiles: ModelHttpClient = {
    ...http,
    download: (url, signal) => (new URL(url).origin === apiOrigin ? http : publicHttp).download(url, signal),
  };
  const headers = { authorization: `Bearer ${apiKey}` };
  const textTasksUrl = `${baseUrl}/openapi/v2/text-to-3d`;
  const imageTasksUrl = `${baseUrl}/openapi/v1/image-to-3d`;
  const taskUrl = (taskId: string): string =>
    taskId.startsWith(IMAGE_TASK)
      ? `${imageTasksUrl}/${encodeURIComponent(taskId.slice(IMAGE_TASK.length))}`
      : `${textTasksUrl}/${encodeURIComponent(taskId)}`;
  const call = async <T>(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    schema: z.ZodType<T>,
    signal: AbortSignal,
    body?: unknown,
  ): Promise<T> => {
    try {
      return await http.json(
        { method, url, signal, headers, ...(body === undefined ? {} : { body }) },
        schema,
      );
    } catch (error) {
      throw explained(error);
    }
  };
  return {
    name,
    inputs: { text: true, image: true },
    async submit(request, signal) {
      if (request.image) {
        // Image to 3D, textured from the image; a prompt, when given, guides the texture.
        const body = {
          image_url: await imageDataUri(request.image),
          topology: 'triangle',
          target_polycount: POLYCOUNT[request.quality],
          should_remesh: true,
          should_texture: true,
          ...(request.prompt === undefined ? {} : { texture_prompt: request.prompt }),
        };
        return `${IMAGE_TASK}${(await call('POST', imageTasksUrl, ZCreated, signal, body)).result}`;
      }
      const body = {
        mode: 'preview',
        prompt: promptOf(request, name),
        seed: request.seed,
        topology: 'triangle',
        target_polycount: POLYCOUNT[request.quality],
        should_remesh: true,
      };
      return (await call('POST', textTasksUrl, ZCreated, signal, body)).result;
    },
    async poll(taskId, request, signal) {
      const task = await call('GET', taskUrl(taskId), ZTask, signal);
      switch (task.status) {
        case 'PENDING':
          return { state: 'queued', progress: task.progress ?? 0 };
        case 'IN_PROGRESS':
          return { state: 'running', progress: task.progress ?? 0 };
        case 'FAILED':
          return { state: 'failed', message: task.task_error?.message ?? undefined };
        case 'CANCELED':
          return { state: 'canceled' };
        case 'SUCCEEDED': {
          const urls = task.model_urls ?? {};
          const files = await downloadResultFiles(
            resultFiles,
            request,
            (format: TMeshFormat) => urls[format] ?? undefined,
            signal,
          ).catch((error: unknown) => {
            if (error instanceof ModelServerError && error.http?.status === 403)
              throw new ModelServerError(
                'MODEL_SERVER_ERROR',
                'A Meshy result link expired before its file could be copied',
                true,
                error.http,
              );
            if (error instanceof AddressRefusedError)
              throw new ModelServerError(
                'MODEL_SERVER_BAD_RESPONSE',
                `Meshy answered a result link that is not on the public internet (${error.range} address); it was not fetched`,
                false,
              );
            throw error;
          });
          return { state: 'succeeded', files };
        }
      }
    },
    async cancel(taskId) {
      await http
        .send({
          method: 'DELETE',
          url: taskUrl(taskId),
          signal: AbortSignal.timeout(5000),
          headers,
        })
        .catch(() => undefined);
    },
    async check(signal) {
      return { credits: (await call('GET', `${baseUrl}/openapi/v1/balance`, ZBalance, signal)).balance };
    },
  };
}
