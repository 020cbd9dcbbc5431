import type { TAsset, TJob } from '@gen3d/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SignedIn, signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { type FaultyModelServer, startFaultyModelServer } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let faulty: FaultyModelServer;
let server: TestServer;
let admin: SignedIn;
let user: SignedIn;

beforeAll(async () => {
  database = await startTestDatabase();
  faulty = await startFaultyModelServer();
  server = await startTestServer(database, {
    env: { MODEL_SERVER_URL: faulty.url, MODEL_SERVER_POLL_INTERVAL_MS: '50', JOB_MAX_ATTEMPTS: '1', JOB_POLL_INTERVAL_MS: '100', AUTH_RATE_LIMIT_MAX: '1000' },
  });
  admin = await signInNewAdmin(server);
  user = await signInNewUser(server, admin, 'ops@example.com');
});

afterAll(async () => {
  await server.close();
  await faulty.close();
  await database.stop();
});

beforeEach(() => {
  faulty.faults = {};
});

const patch = (jobId: string, body: unknown, who: SignedIn) => callRest(server.url, 'PATCH', `/jobs/${jobId}`, body, who.token);

describe('PATCH /api/jobs/:id (admins)', () => {
  it('retries a failed job from scratch', async () => {
    faulty.faults.failSubmits = 1;
    const created = await callRest(server.url, 'POST', '/jobs', { prompt: 'a retried cube' }, user.token);
    const jobId = String(created.body.id);
    const failed = (await followJob(clientFor(server, user), jobId)).at(-1) as TJob;
    expect(failed.status).toBe('failed');
    expect((await patch(jobId, { status: 'queued' }, user)).status).toBe(403);
    const retried = await patch(jobId, { status: 'queued' }, admin);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ status: 'queued', attempts: 0, error: null });
    const final = (await followJob(clientFor(server, user), jobId)).at(-1) as TJob;
    expect(final).toMatchObject({ status: 'succeeded', attempts: 1 });
    const again = await patch(jobId, { status: 'queued' }, admin);
    expect(again.status).toBe(409);
  });

  it('sets the progress of a running job and fails it with an error', async () => {
    faulty.faults.neverFinish = true;
    const created = await callRest(server.url, 'POST', '/jobs', { prompt: 'a stuck sphere' }, user.token);
    const jobId = String(created.body.id);
    await followJob(clientFor(server, user), jobId, (job) => job.status === 'running');
    expect((await patch(jobId, { progress: 42 }, admin)).body).toMatchObject({ status: 'running', progress: 42 });
    expect((await patch(jobId, { status: 'succeeded' }, admin)).status).toBe(400);
    expect((await patch(jobId, { error: { code: 'X', message: 'y' } }, admin)).status).toBe(400);
    const seen = faulty.requests.length;
    const failed = await patch(jobId, { status: 'failed', error: { code: 'STUCK', message: 'Stuck for hours' } }, admin);
    expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'STUCK', message: 'Stuck for hours' } });
    expect((await patch(jobId, { progress: 10 }, admin)).status).toBe(409);
    // The worker notices its job is no longer running and stops the model server's task.
    await faulty.waitForRequest((request) => request.startsWith('DELETE /v1/generations/'), seen);
    const messages = (await callRest(server.url, 'GET', `/messages?chatId=${String(created.body.chatId)}`, undefined, user.token)).body as unknown as Array<{ role: string; content: string }>;
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: expect.stringContaining('STUCK') });
  });
});

describe('POST /api/assets (admins)', () => {
  it('registers a checked file for a user, from base64 or a URL', async () => {
    const created = await callRest(server.url, 'POST', '/jobs', { prompt: 'a source pyramid' }, user.token);
    const job = (await followJob(clientFor(server, user), String(created.body.id))).at(-1) as TJob;
    const glbUrl = job.outputs.find((output) => output.format === 'glb')?.url as string;
    const glb = Buffer.from(await (await fetch(glbUrl)).arrayBuffer());

    expect((await callRest(server.url, 'POST', '/assets', { format: 'glb', data: glb.toString('base64') }, user.token)).status).toBe(403);
    const fromData = await callRest(server.url, 'POST', '/assets', { format: 'glb', data: glb.toString('base64'), userId: user.id }, admin.token);
    expect(fromData.status, JSON.stringify(fromData.body)).toBe(201);
    expect(fromData.body).toMatchObject({ format: 'glb', bytes: glb.length, vertices: expect.any(Number), url: expect.stringContaining('/assets/') });
    const listed = (await callRest(server.url, 'GET', '/assets?limit=200', undefined, user.token)).body as unknown as TAsset[];
    expect(listed.some((asset) => asset.id === fromData.body.id)).toBe(true);

    const fromUrl = await callRest(server.url, 'POST', '/assets', { format: 'glb', sourceUrl: glbUrl, jobId: job.id, userId: user.id }, admin.token);
    expect(fromUrl.status, JSON.stringify(fromUrl.body)).toBe(201);
    expect(fromUrl.body).toMatchObject({ jobId: job.id, chatId: job.chatId, sha256: fromData.body.sha256 });

    const broken = await callRest(server.url, 'POST', '/assets', { format: 'glb', data: Buffer.from('not a model').toString('base64') }, admin.token);
    expect(broken.status).toBe(400);
    expect(broken.body.error).toContain('Invalid GLB');
    const both = await callRest(server.url, 'POST', '/assets', { format: 'ply', data: 'AAAA', sourceUrl: glbUrl }, admin.token);
    expect(both.status).toBe(400);
    const foreignJob = await callRest(server.url, 'POST', '/assets', { format: 'glb', data: glb.toString('base64'), jobId: job.id }, admin.token);
    expect(foreignJob.status).toBe(404);
  });
});
