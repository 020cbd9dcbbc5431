import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { startFaultyModelServer, type FaultyModelServer } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { glbOfParts, wavyGrid } from '../support/postprocess-meshes.js';
import { parsePrometheusText, valueOf } from '../support/prometheus.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let modelServer: FaultyModelServer;
let server: TestServer;
let user: SignedIn;

beforeAll(async () => {
  database = await startTestDatabase();
  modelServer = await startFaultyModelServer();
  server = await startTestServer(database, {
    env: {
      MODEL_SERVER_URL: modelServer.url,
      MODEL_SERVER_POLL_INTERVAL_MS: '50',
      AUTH_RATE_LIMIT_MAX: '1000',
      // One thread, so the jobs' files are all checked on the same one unless it is replaced.
      MESH_WORKERS: '1',
    },
  });
  const admin = await signInNewAdmin(server);
  user = await signInNewUser(server, admin, 'checks@example.com');
});

afterAll(async () => {
  await server.close();
  await modelServer.close();
  await database.stop();
});

async function meshThreadsStarted(): Promise<number> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  return valueOf(parsePrometheusText(await response.text()), 'gen3d_mesh_threads_started_total');
}

async function generated(prompt: string): Promise<string> {
  const created = await callRest(
    server.url,
    'POST',
    '/jobs',
    { prompt, params: { formats: ['glb'] } },
    user.token,
  );
  expect(created.status).toBe(201);
  const jobId = String(created.body.id);
  const updates = await followJob(clientFor(server, user), jobId);
  expect(updates.at(-1)?.status).toBe('succeeded');
  return jobId;
}

describe('cancelling a job while its files are checked', () => {
  it('ends the job canceled and keeps the mesh thread, which goes on to check the next job', async () => {
    await generated('a first cube');
    expect(await meshThreadsStarted()).toBe(1);

    // Half a million vertices: Khronos' validator takes far longer over them than the cancel takes to land.
    const large = await glbOfParts(wavyGrid(700, { shared: true }));
    const served = new Promise<void>((resolve) => {
      modelServer.faults = { glb: large, onFileServed: () => resolve() };
    });
    const created = await callRest(
      server.url,
      'POST',
      '/jobs',
      { prompt: 'a large grid', params: { formats: ['glb'] } },
      user.token,
    );
    const jobId = String(created.body.id);
    await served;
    modelServer.faults = {};
    const canceled = await callRest(server.url, 'POST', `/jobs/${jobId}/cancel`, undefined, user.token);
    expect(canceled.status).toBe(200);
    const updates = await followJob(clientFor(server, user), jobId, (job) => job.status === 'canceled');
    expect(updates.some((job) => job.status === 'succeeded')).toBe(false);
    expect(updates.at(-1)).toMatchObject({ status: 'canceled', error: { code: 'CANCELED' }, outputs: [] });

    await generated('a second cube');
    expect(await meshThreadsStarted()).toBe(1);
  });
});
