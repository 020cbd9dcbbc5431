import { z } from 'zod';

import type { ModelHttpClient } from './http-client.js';
import { promptOf, type ModelServer } from './model-server.js';
import { downloadResultFiles } from './remote-files.js';

const ZSubmitted = z.object({ id: z.string().min(1) });
const ZStatus = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']),
  progress: z.number().min(0).max(100),
  error: z.string().optional(),
});

const ZHealth = z.object({ ok: z.literal(true), generator: z.string().optional() });

const FILE_OF_FORMAT = { glb: 'mesh.glb', obj: 'mesh.obj', mtl: 'mesh.mtl', ply: 'mesh.ply' } as const;

/** The reference model server's contract (v1): see model-servers/reference/http-server.ts. */
export function createReferenceModelServer(
  name: string,
  baseUrl: string,
  http: ModelHttpClient,
): ModelServer {
  const taskUrl = (taskId: string): string => `${baseUrl}/v1/generations/${encodeURIComponent(taskId)}`;
  return {
    name,
    inputs: { text: true, image: false },
    async submit(request, signal) {
      const body = { prompt: promptOf(request, name), seed: request.seed, quality: request.quality };
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
        case 'succeeded':
          return {
            state: 'succeeded',
            files: await downloadResultFiles(
              http,
              request,
              (format) => `${taskUrl(taskId)}/files/${FILE_OF_FORMAT[format]}`,
              signal,
            ),
          };
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
