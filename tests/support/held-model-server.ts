import { EventEmitter, once } from 'node:events';

import { startReferenceModelServer } from '@gen3d/server';

import {
  forwardRequest,
  sendJson,
  sendUpstreamAnswer,
  startContractServer,
  type ContractServer,
} from './contracts/contract-server.js';

export interface HeldModelServer extends ContractServer {
  /** The prompts of the generations asked for, in arrival order: the order workers started jobs. */
  readonly started: string[];
  /** Resolves with the prompt of the generation asked for after the first `after` ones. */
  nextStarted(after: number): Promise<string>;
  /** Lets the generation of `prompt` finish: its next status answer is the reference server's. */
  release(prompt: string): void;
}

/**
 * The reference model server behind a proxy that holds every generation at "running" until the test
 * releases it by its prompt, so a test decides when each job ends and a worker frees up.
 */
export async function startHeldModelServer(): Promise<HeldModelServer> {
  const reference = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs: 0 });
  const promptOf = new Map<string, string>();
  const released = new Set<string>();
  const started: string[] = [];
  const startedEvents = new EventEmitter();
  const proxy = await startContractServer(async (request, response) => {
    const { method, path } = request;
    const taskId = /^\/v1\/generations\/([^/]+)$/.exec(path)?.[1];
    const prompt = taskId ? promptOf.get(taskId) : undefined;
    if (method === 'GET' && prompt !== undefined && !released.has(prompt))
      return sendJson(response, 200, { id: taskId, status: 'running', progress: 10 });
    const answer = await forwardRequest(reference.url, request);
    if (method === 'POST' && path === '/v1/generations' && answer.status < 300) {
      const submitted = (request.body as { prompt: string }).prompt;
      promptOf.set((JSON.parse(answer.payload.toString('utf8')) as { id: string }).id, submitted);
      started.push(submitted);
      startedEvents.emit('started');
    }
    sendUpstreamAnswer(response, answer);
  });
  return {
    ...proxy,
    started,
    async nextStarted(after: number) {
      const signal = AbortSignal.timeout(60_000);
      while (started.length <= after) await once(startedEvents, 'started', { signal });
      return started[after] as string;
    },
    release(prompt: string) {
      released.add(prompt);
    },
    close: async () => {
      await proxy.close();
      await reference.close();
    },
  };
}
