import { setTimeout as sleep } from 'node:timers/promises';

import { anySignal } from 'any-signal';

import { startDeadline } from '../infra/deadline.js';
import { ModelServerError, type ModelFile, type ModelRequest, type ModelServer } from './model-server.js';

export interface RunOptions {
  signal: AbortSignal;
  /** The longest wait between two polls of a running task (the back-off's cap). */
  pollIntervalMs: number;
  /** Called with 0-100 whenever the server reports progress. */
  onProgress(progress: number): void;
}

/** The first wait between polls; each next one doubles, up to the poll interval. */
export const FIRST_POLL_DELAY_MS = 10;

/**
 * The waits between polls of one task: the first poll goes at once after the submit, then the waits are
 * 10, 20, 40 ... ms up to `intervalMs`, and `intervalMs` from there on. A quick task is seen finished within
 * a few milliseconds, while a long one is asked no more often than the interval allows.
 */
export function* pollDelays(intervalMs: number): Generator<number, never> {
  for (let delay = Math.min(FIRST_POLL_DELAY_MS, intervalMs); ; delay = Math.min(intervalMs, delay * 2))
    yield delay;
}

function deadlineError(server: ModelServer, deadlineMs: number): ModelServerError {
  return new ModelServerError(
    'MODEL_SERVER_TIMEOUT',
    `The ${server.name} model server did not finish the task within ${Math.round(deadlineMs / 1000)} s`,
    true,
  );
}

/**
 * Drives one task on a model server to its files: submit, then poll until it ends (at once, then backing
 * off: pollDelays). When `signal` aborts (cancel, job deadline, shutdown) or the server's own task deadline
 * passes, the remote task is canceled too; an abort throws the abort's reason.
 */
export async function runModelTask(
  server: ModelServer,
  request: ModelRequest,
  { signal, pollIntervalMs, onProgress }: RunOptions,
): Promise<ModelFile[]> {
  const taskId = await server.submit(request, signal);
  const deadlineMs = server.taskDeadlineMs;
  const deadline = deadlineMs === undefined ? undefined : startDeadline(deadlineMs);
  const withDeadline = deadline ? anySignal([signal, deadline.signal]) : undefined;
  const running = withDeadline ?? signal;
  const delays = pollDelays(pollIntervalMs);
  try {
    for (;;) {
      const status = await server.poll(taskId, request, running);
      switch (status.state) {
        case 'succeeded':
          onProgress(100);
          return status.files;
        case 'failed':
          throw new ModelServerError(
            'GENERATION_FAILED',
            `The model server could not generate this prompt${status.message ? `: ${status.message}` : ''}`,
            true,
          );
        case 'canceled':
          throw new ModelServerError('GENERATION_FAILED', 'The model server canceled the task', true);
        default:
          onProgress(Math.max(0, Math.min(100, Math.round(status.progress))));
      }
      await sleep(delays.next().value, undefined, { signal: running });
    }
  } catch (error) {
    if (running.aborted) {
      await server.cancel(taskId);
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : error;
      throw deadlineError(server, deadlineMs ?? 0);
    }
    throw error;
  } finally {
    withDeadline?.clear();
    deadline?.clear();
  }
}
