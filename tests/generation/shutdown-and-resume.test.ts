import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';
import { startReferenceModelServer, type RunningReferenceServer } from '@gen3d/server';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let slow: RunningReferenceServer;
let fast: RunningReferenceServer;
let api: TestServer;
let user: SignedIn;
const started: TestServer[] = [];

beforeAll(async () => {
  database = await startTestDatabase();
  slow = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs: 20_000 });
  fast = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs: 0 });
  api = await startTestServer(database, {
    env: { WORKER_CONCURRENCY: '0', MODEL_SERVER_URL: fast.url, AUTH_RATE_LIMIT_MAX: '1000' },
  });
  const admin = await signInNewAdmin(api);
  user = await signInNewUser(api, admin, 'sam@example.com');
});

afterAll(async () => {
  for (const server of started) await server.close();
  await api.close();
  await slow.close();
  await fast.close();
  await database.stop();
});

async function workerInstance(modelServerUrl: string, env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer(database, {
    env: {
      WORKER_CONCURRENCY: '1',
      MODEL_SERVER_URL: modelServerUrl,
      MODEL_SERVER_POLL_INTERVAL_MS: '50',
      JOB_POLL_INTERVAL_MS: '100',
      ...env,
    },
    mongodbUri: api.mongodbUri,
  });
  started.push(server);
  return server;
}

describe('graceful shutdown', () => {
  it('hands a running job back to the queue when it cannot finish in time, and another instance runs it', async () => {
    const stopping = await workerInstance(slow.url, { SHUTDOWN_TIMEOUT_MS: '1000' });
    const created = await callRest(api.url, 'POST', '/jobs', { prompt: 'a cube interrupted' }, user.token);
    const jobId = String(created.body.id);
    await followJob(clientFor(api, user), jobId, (job) => job.status === 'running' && job.progress > 0);
    await stopping.close();
    const handedBack = (await callRest(api.url, 'GET', `/jobs/${jobId}`, undefined, user.token))
      .body as unknown as TJob;
    expect(handedBack).toMatchObject({ status: 'queued', attempts: 0, progress: 0 });

    await workerInstance(fast.url);
    const final = (await followJob(clientFor(api, user), jobId)).at(-1) as TJob;
    expect(final).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});

describe('shutdown with open live-update streams', () => {
  it('ends the streams, so the server closes without waiting for clients', async () => {
    const instance = await startTestServer(database, {
      env: { WORKER_CONCURRENCY: '0', MODEL_SERVER_URL: fast.url },
      mongodbUri: api.mongodbUri,
    });
    const streaming = await new Promise<{ unsubscribe(): void }>((resolve) => {
      const subscription = clientFor(instance, user).generation.watch.subscribe(
        {},
        { onStarted: () => resolve(subscription) },
      );
    });
    await instance.close();
    streaming.unsubscribe();
  });
});

describe('generation.watch', () => {
  it('resumes after the last event id with everything that changed meanwhile', async () => {
    await workerInstance(fast.url);
    const client = clientFor(api, user);
    const first = await callRest(api.url, 'POST', '/jobs', { prompt: 'a first torus' }, user.token);
    const firstId = String(first.body.id);
    const lastSeen = await new Promise<string>((resolve) => {
      const subscription = client.generation.watch.subscribe(
        {},
        {
          onData: (event) => {
            if (event.data.id !== firstId || event.data.status !== 'succeeded') return;
            subscription.unsubscribe();
            resolve(event.id);
          },
        },
      );
    });
    // While nobody listens, another job runs to the end.
    const second = await callRest(api.url, 'POST', '/jobs', { prompt: 'a second torus' }, user.token);
    const secondId = String(second.body.id);
    await followJob(client, secondId);
    const replayed = await new Promise<TJob[]>((resolve) => {
      const seen: TJob[] = [];
      const subscription = client.generation.watch.subscribe(
        { lastEventId: lastSeen },
        {
          onData: (event) => {
            seen.push(event.data);
            if (event.data.id === secondId && event.data.status === 'succeeded') {
              subscription.unsubscribe();
              resolve(seen);
            }
          },
        },
      );
    });
    expect(replayed.some((job) => job.id === secondId && job.status === 'succeeded')).toBe(true);
  });
});
