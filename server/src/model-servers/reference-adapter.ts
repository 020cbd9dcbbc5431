import { z } from 'zod';
import type { ModelHttpClient } from './http-client.js';
import { type ModelFile, type ModelServer, ModelServerError, type RemoteState, wantedFormats } from './model-server.js';

const ZSubmitted = z.object({ id: z.string().min(1) });
const ZStatus = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']),
  progress: z.number().min(0).max(100),
  error: z.string().optional(),
  files: z.array(z.object({ name: z.string() })).optional(),
});
const ZHealth = z.object({ ok: z.boolean() });

const FILE_OF_FORMAT = { glb: 'mesh.glb', obj: 'mesh.obj', mtl: 'mesh.mtl', ply: 'mesh.ply' } as const;

/** The reference model server's contract (v1): see model-servers/reference/http-server.ts. */
export function createReferenceModelServer(name: string, baseUrl: string, http: ModelHttpClient): ModelServer {
  return {
    name,
    async submit(request, signal) {
      const { id } = await http.json('POST', `${baseUrl}/v1/generations`, ZSubmitted, signal, { prompt: request.prompt, seed: request.seed, quality: request.quality });
      return id;
    },
    async progress(taskId, signal) {
      const answer = await http.json('GET', `${baseUrl}/v1/generations/${encodeURIComponent(taskId)}`, ZStatus, signal);
      return { state: answer.status as RemoteState, progress: answer.progress, message: answer.error };
    },
    async resultFiles(taskId, request, signal) {
      const files: ModelFile[] = await Promise.all(
        wantedFormats(request).map(async (format) => ({
          format,
          bytes: await http.download(`${baseUrl}/v1/generations/${encodeURIComponent(taskId)}/files/${FILE_OF_FORMAT[format]}`, signal),
        })),
      );
      if (files.length === 0) throw new ModelServerError('MODEL_SERVER_BAD_RESPONSE', 'The model server returned no files', true);
      return files;
    },
    async cancel(taskId) {
      await http.json('DELETE', `${baseUrl}/v1/generations/${encodeURIComponent(taskId)}`, z.unknown(), AbortSignal.timeout(5000)).catch(() => undefined);
    },
    async health(signal) {
      return http.json('GET', `${baseUrl}/health`, ZHealth, signal).then((answer) => answer.ok, () => false);
    },
  };
}
