import { afterAll, beforeAll } from 'vitest';

import { startReferenceModelServer, type RunningReferenceServer } from '@gen3d/server';

import { startTestDatabase, type TestDatabase } from './database.js';
import { startTestServer, type TestServer } from './server.js';

export interface Instances {
  readonly modelServer: RunningReferenceServer;
  /** Starts one more instance with `settings` and `env`, on its own database or on `mongodbUri`'s. */
  start(env: Record<string, string>, mongodbUri?: string): Promise<TestServer>;
}

/**
 * Several gen3d instances for a suite, sharing one test database server and one reference model server
 * (no delay); every instance started is closed after the suite.
 */
export function useInstances(settings: Record<string, string>): Instances {
  const state: { database?: TestDatabase; modelServer?: RunningReferenceServer } = {};
  const servers: TestServer[] = [];
  beforeAll(async () => {
    state.database = await startTestDatabase();
    state.modelServer = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs: 0 });
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await state.modelServer?.close();
    await state.database?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the instances are not started yet');
    return value;
  };
  return {
    get modelServer() {
      return started(state.modelServer);
    },
    async start(env, mongodbUri) {
      const server = await startTestServer(started(state.database), {
        env: {
          MODEL_SERVER_URL: started(state.modelServer).url,
          MODEL_SERVER_POLL_INTERVAL_MS: '20',
          ...settings,
          ...env,
        },
        ...(mongodbUri ? { mongodbUri } : {}),
      });
      servers.push(server);
      return server;
    },
  };
}
