import { z } from 'zod';

import type { ModelHttpClient } from './http-client.js';
import type { ModelRequest, ModelServer } from './model-server.js';
import { downloadResultFiles } from './remote-files.js';

export interface ShapEOptions {
  baseUrl: string;
  /** How long the synchronous `POST /generate3D` may take to answer. */
  generateTimeoutMs: number;
}

const ZHealth = z.record(z.string(), z.unknown());
const ZGenerated = z.object({ id: z.union([z.string().min(1), z.number().int()]).transform(String) });

/** Shap-E sampling settings per quality preset; a job's own guidanceScale/steps/frameSize win. */
const PRESETS: Record<ModelRequest['quality'], { guidanceScale: number; steps: number; frameSize: number }> =
  {
    draft: { guidanceScale: 15, steps: 32, frameSize: 128 },
    standard: { guidanceScale: 15, steps: 64, frameSize: 256 },
    high: { guidanceScale: 15, steps: 128, frameSize: 512 },
  };

/**
 * A Shap-E model server (the `/generate3D` contract): `POST /generate3D` answers `{id}` only when the meshes are
 * written, then they are at `/data/assets/{id}/mesh.{glb,obj,mtl,ply}`. There is no progress and no
 * cancel: canceling aborts the call.
 */
export function createShapEModelServer(
  name: string,
  { baseUrl, generateTimeoutMs }: ShapEOptions,
  http: ModelHttpClient,
): ModelServer {
  return {
    name,
    inputs: { text: true, image: false },
    async submit(request, signal) {
      const preset = PRESETS[request.quality];
      const body = {
        prompt: request.prompt,
        guidanceScale: request.guidanceScale ?? preset.guidanceScale,
        steps: request.steps ?? preset.steps,
        frameSize: request.frameSize ?? preset.frameSize,
      };
      return (
        await http.json(
          {
            method: 'POST',
            url: `${baseUrl}/generate3D`,
            signal,
            body,
            responseTimeoutMs: generateTimeoutMs,
          },
          ZGenerated,
        )
      ).id;
    },
    async poll(taskId, request, signal) {
      const folder = `${baseUrl}/data/assets/${encodeURIComponent(taskId)}`;
      return {
        state: 'succeeded',
        files: await downloadResultFiles(http, request, (format) => `${folder}/mesh.${format}`, signal),
      };
    },
    async cancel() {
      // Nothing to call: the aborted request was the task.
    },
    async check(signal) {
      await http.json({ method: 'GET', url: `${baseUrl}/health`, signal }, ZHealth);
      return {};
    },
  };
}
