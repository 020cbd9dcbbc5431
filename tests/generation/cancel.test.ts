import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { startFaultyModelServer, type FaultyModelServer } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let modelServer: FaultyModelServer;
/** API only: takes requests, runs no jobs. */
let api: TestServer;
/** Runs jobs; shares the database with `api`. Started by the second test, so the first one's job stays queued. */
let worker: TestServer | undefined;
let user: SignedIn;

beforeAll(async () => {
  database = await startTestDatabase();
  // Slow generations, so a job is still running when it is canceled.
  modelServer = await startFaultyModelServer(20_000);
  const env = {
    MODEL_SERVER_URL: modelServer.url,
    MODEL_SERVER_POLL_INTERVAL_MS: '50',
    AUTH_RATE_LIMIT_MAX: '1000',
  };
  api = await startTestServer(database, { env: { ...env, WORKER_CONCURRENCY: '0' } });
  const admin = await signInNewAdmin(api);
  user = await signInNewUser(api, admin, 'cy@example.com');
});

afterAll(async () => {
  await worker?.close();
  await api.close();
  await modelServer.close();
  await database.stop();
});

describe('jobs.cancel', () => {
  it('cancels a queued job at once', async () => {
    // No instance runs workers yet (WORKER_CONCURRENCY=0), so the job stays queued.
    const created = await callRest(api.url, 'POST', '/jobs', { prompt: 'a queued cube' }, user.token);
    expect(created.body.status).toBe('queued');
    const canceled = await callRest(
      api.url,
      'POST',
      `/jobs/${String(created.body.id)}/cancel`,
      undefined,
      user.token,
    );
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'canceled', error: { code: 'CANCELED' } });
    const again = await callRest(
      api.url,
      'POST',
      `/jobs/${String(created.body.id)}/cancel`,
      undefined,
      user.token,
    );
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('JOB_FINISHED');
  });

  it('stops a job running on another instance, and the model server task with it, before the task ends', async () => {
    worker = await startTestServer(database, {
      env: {
        MODEL_SERVER_URL: modelServer.url,
        MODEL_SERVER_POLL_INTERVAL_MS: '50',
        WORKER_CONCURRENCY: '2',
      },
      mongodbUri: api.mongodbUri,
    });
    const client = clientFor(api, user);
    const created = await callRest(api.url, 'POST', '/jobs', { prompt: 'a slow sphere' }, user.token);
    const jobId = String(created.body.id);
    await followJob(client, jobId, (job) => job.status === 'running' && job.progress > 0);
    const answer = await callRest(api.url, 'POST', `/jobs/${jobId}/cancel`, undefined, user.token);
    expect(answer.status).toBe(200);
    // The model server's task runs for 20 s: a job that ends canceled, with its task deleted, was stopped.
    const updates = await followJob(client, jobId, (job) => job.status === 'canceled');
    expect(updates.at(-1)?.status).toBe('canceled');
    expect(updates.some((job) => job.status === 'succeeded')).toBe(false);
    expect(
      modelServer.requests.some(
        (request) => request.method === 'DELETE' && request.path.startsWith('/v1/generations/'),
      ),
    ).toBe(true);
    const finished = await callRest(api.url, 'POST', `/jobs/${jobId}/cancel`, undefined, user.token);
    expect(finished.body.code).toBe('JOB_FINISHED');
  });

  it("hides another user's job (404)", async () => {
    const admin = await signInNewAdmin(api, 'root2@example.com');
    const created = await callRest(api.url, 'POST', '/jobs', { prompt: 'a private cone' }, user.token);
    const jobId = String(created.body.id);
    for (const [method, path] of [
      ['GET', `/jobs/${jobId}`],
      ['POST', `/jobs/${jobId}/cancel`],
    ] as const) {
      const answer = await callRest(api.url, method, path, undefined, admin.token);
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    await callRest(api.url, 'POST', `/jobs/${jobId}/cancel`, undefined, user.token);
  });

  it('deleting an account stops its running job and removes its chats, messages, jobs and files', async () => {
    const admin = await signInNewAdmin(api, 'root3@example.com');
    const doomed = await signInNewUser(api, admin, 'doomed@example.com');
    const client = clientFor(api, doomed);
    const running = await callRest(
      api.url,
      'POST',
      '/jobs',
      { prompt: 'a sphere that will not finish' },
      doomed.token,
    );
    await followJob(client, String(running.body.id), (job) => job.status === 'running' && job.progress > 0);
    const chatId = String(running.body.chatId);
    await callRest(api.url, 'POST', '/messages', { chatId, content: 'hello?' }, doomed.token);
    const seen = modelServer.requests.length;
    const deleted = await callRest(
      api.url,
      'DELETE',
      `/admin/users/${doomed.id}?confirmEmail=doomed@example.com`,
      undefined,
      admin.token,
    );
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body.deleted).toMatchObject({ accounts: 1, jobs: 1, chats: 1, messages: 2 });
    const db = api.app.database.connection;
    for (const collection of ['jobs', 'chats', 'messages', 'assets'])
      expect(
        await db.collection(collection).countDocuments({ ownerId: new Types.ObjectId(doomed.id) }),
        collection,
      ).toBe(0);
    // The worker notices the job is gone and cancels the model server's task.
    await modelServer.waitForRequest(
      (request) => request.method === 'DELETE' && request.path.startsWith('/v1/generations/'),
      seen,
    );
  });
});
