import type { TModelServerHealth } from '@gen3d/shared';

import { ModelServerError, type ModelServer } from '../../model-servers/model-server.js';

/** Long enough for a cloud API across the internet, short enough for a page an operator is waiting on. */
const CHECK_DEADLINE_MS = 5_000;

export interface ModelServerHealthService {
  /** Checks every configured model server at once; never throws, a failed check is reported in its entry. */
  checkAll(): Promise<TModelServerHealth[]>;
}

function failureOf(error: unknown, signal: AbortSignal): TModelServerHealth['error'] {
  if (error instanceof ModelServerError) return { code: error.code, message: error.message };
  if (signal.aborted)
    return { code: 'MODEL_SERVER_TIMEOUT', message: `No answer within ${CHECK_DEADLINE_MS / 1000} s` };
  return { code: 'MODEL_SERVER_ERROR', message: error instanceof Error ? error.message : String(error) };
}

export function createModelServerHealthService(
  servers: ReadonlyMap<string, ModelServer>,
  defaultName: string,
): ModelServerHealthService {
  async function check(server: ModelServer): Promise<TModelServerHealth> {
    const signal = AbortSignal.timeout(CHECK_DEADLINE_MS);
    const started = performance.now();
    const entry = { name: server.name, isDefault: server.name === defaultName };
    try {
      const answer = await server.check(signal);
      return {
        ...entry,
        ok: true,
        latencyMs: Math.round(performance.now() - started),
        detail: answer.detail ?? null,
        credits: answer.credits ?? null,
        error: null,
      };
    } catch (error) {
      return {
        ...entry,
        ok: false,
        latencyMs: Math.round(performance.now() - started),
        detail: null,
        credits: null,
        error: failureOf(error, signal),
      };
    }
  }
  return { checkAll: () => Promise.all([...servers.values()].map(check)) };
}
