import { randomUUID } from 'node:crypto';

import { z } from 'zod';

import type { ModelHttpClient } from './http-client.js';
import { ModelServerError, type ModelRequest, type ModelServer } from './model-server.js';

export interface Hunyuan3dOptions {
  baseUrl: string;
  /** The server never reports a failed task, so a task still unfinished after this long fails the attempt. */
  deadlineMs: number;
}

const ZSent = z.object({ uid: z.string().min(1) });
const ZStatus = z.object({
  status: z.enum(['processing', 'texturing', 'completed']),
  model_base64: z.string().optional(),
});
const ZErrorBody = z.object({ text: z.string(), error_code: z.number() });

/** Hunyuan3D-2 settings per quality preset; a job's own steps/guidanceScale win. */
const PRESETS: Record<
  ModelRequest['quality'],
  {
    octree_resolution: number;
    num_inference_steps: number;
    guidance_scale: number;
    texture: boolean;
    face_count: number;
  }
> = {
  draft: {
    octree_resolution: 128,
    num_inference_steps: 5,
    guidance_scale: 5,
    texture: false,
    face_count: 10_000,
  },
  standard: {
    octree_resolution: 256,
    num_inference_steps: 30,
    guidance_scale: 5,
    texture: false,
    face_count: 40_000,
  },
  high: {
    octree_resolution: 380,
    num_inference_steps: 50,
    guidance_scale: 5,
    texture: true,
    face_count: 80_000,
  },
};

/** Progress shown for the server's phases; it reports no figures of its own. */
const PHASE_PROGRESS = { processing: 30, texturing: 75 } as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The GLB inside a status answer; anything but well-formed base64 is an unusable file. */
function decodeModel(base64: string | undefined): Uint8Array {
  const text = (base64 ?? '').replace(/\s+/g, '');
  if (text.length === 0)
    throw new ModelServerError(
      'OUTPUT_INVALID',
      'The model server reported the task completed but sent no model',
      true,
    );
  if (text.length % 4 !== 0 || !BASE64.test(text))
    throw new ModelServerError('OUTPUT_INVALID', "The model server's model is not valid base64", true);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Its errors are HTTP 404 with `{text, error_code}`; turned into a generation failure in its words. */
function explained(error: unknown): unknown {
  if (!(error instanceof ModelServerError) || error.http?.status !== 404) return error;
  let body: unknown;
  try {
    body = JSON.parse(error.http.body);
  } catch {
    return error;
  }
  const parsed = ZErrorBody.safeParse(body);
  if (!parsed.success) return error;
  return new ModelServerError(
    'GENERATION_FAILED',
    `Hunyuan3D could not generate this prompt (error ${parsed.data.error_code}): ${parsed.data.text}`,
    true,
    error.http,
  );
}

/**
 * Tencent Hunyuan3D-2's `api_server.py`: `POST /send` answers `{uid}`, `GET /status/{uid}` answers the
 * phase and, once completed, the GLB as base64. It has no cancel; an abort stops the polling.
 */
export function createHunyuan3dModelServer(
  name: string,
  { baseUrl, deadlineMs }: Hunyuan3dOptions,
  http: ModelHttpClient,
): ModelServer {
  return {
    name,
    inputs: { text: true, image: false },
    taskDeadlineMs: deadlineMs,
    async submit(request, signal) {
      const preset = PRESETS[request.quality];
      const body = {
        text: request.prompt,
        seed: request.seed,
        octree_resolution: preset.octree_resolution,
        num_inference_steps: request.steps ?? preset.num_inference_steps,
        guidance_scale: request.guidanceScale ?? preset.guidance_scale,
        texture: preset.texture,
        face_count: preset.face_count,
      };
      try {
        return (await http.json({ method: 'POST', url: `${baseUrl}/send`, signal, body }, ZSent)).uid;
      } catch (error) {
        throw explained(error);
      }
    },
    async poll(taskId, _request, signal) {
      let answer: z.infer<typeof ZStatus>;
      try {
        answer = await http.json(
          { method: 'GET', url: `${baseUrl}/status/${encodeURIComponent(taskId)}`, signal },
          ZStatus,
        );
      } catch (error) {
        throw explained(error);
      }
      if (answer.status === 'completed')
        return { state: 'succeeded', files: [{ format: 'glb', bytes: decodeModel(answer.model_base64) }] };
      return { state: 'running', progress: PHASE_PROGRESS[answer.status] };
    },
    async cancel() {
      // The contract has no cancel; the server finishes the task and keeps its file.
    },
    async check(signal) {
      // No health route either: a task that does not exist is answered "processing", which proves the
      // server is up and speaking its contract without starting anything.
      await http.json(
        { method: 'GET', url: `${baseUrl}/status/gen3d-health-check-${randomUUID()}`, signal },
        ZStatus,
      );
      return {};
    },
  };
}
