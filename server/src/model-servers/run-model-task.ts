import { setTimeout as sleep } from 'node:timers/promises';
import { type ModelFile, type ModelRequest, type ModelServer, ModelServerError } from './model-server.js';

export interface RunOptions {
  signal: AbortSignal;
  pollIntervalMs: number;
  /** Called with 0-100 whenever the server reports progress. */
  onProgress(progress: number): void;
}

/**
 * Drives one task on a model server to its files: submit, poll progress, download. When `signal`
 * aborts (cancel, deadline, shutdown), the remote task is canceled too and the abort reason is thrown.
 */
export async function runModelTask(server: ModelServer, request: ModelRequest, { signal, pollIntervalMs, onProgress }: RunOptions): Promise<ModelFile[]> {
  const taskId = await server.submit(request, signal);
  try {
    for (;;) {
      const status = await server.progress(taskId, signal);
      onProgress(Math.max(0, Math.min(100, Math.round(status.progress))));
      if (status.state === 'succeeded') return await server.resultFiles(taskId, request, signal);
      if (status.state === 'failed') throw new ModelServerError('GENERATION_FAILED', `The model server could not generate this prompt${status.message ? `: ${status.message}` : ''}`, true);
      if (status.state === 'canceled') throw new ModelServerError('GENERATION_FAILED', 'The model server canceled the task', true);
      await sleep(pollIntervalMs, undefined, { signal });
    }
  } catch (error) {
    if (signal.aborted) {
      await server.cancel(taskId);
      throw signal.reason instanceof Error ? signal.reason : error;
    }
    throw error;
  }
}
