import { setTimeout as sleep } from 'node:timers/promises';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';

import { sha256, useAdapterSuite } from '../support/contracts/adapter-suite.js';
import { sendJson, startContractServer } from '../support/contracts/contract-server.js';
import { startMeshyServer } from '../support/contracts/meshy-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { pngWithProfile, uploadImage, webpImage } from '../support/images.js';
import { callRest } from '../support/rest.js';

const suite = useAdapterSuite(startMeshyServer, (meshy) => ({
  MESHY_URL: meshy.url,
  MESHY_API_KEY: meshy.apiKey,
  DEFAULT_MODEL_SERVER: 'meshy',
  // Long enough for two Retry-After waits (2 s) and a generation on a busy machine.
  JOB_TIMEOUT_MS: '8000',
}));

const creates = (): number => suite.double.requests.filter((request) => request.method === 'POST').length;

describe('the meshy adapter (API key, preview tasks, expiring result links)', () => {
  it('maps task states to progress and copies the files before their links expire', async () => {
    suite.double.faults = {};
    suite.double.urlTtlMs = 1_000;
    const { job, updates } = await suite.run('a red low-poly fox', { seed: 5, quality: 'draft' });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(
      updates.some((update) => update.status === 'running' && update.progress > 0 && update.progress < 95),
    ).toBe(true);

    const create = suite.double.requests.filter((request) => request.method === 'POST').at(-1);
    expect(create?.headers.authorization).toBe(`Bearer ${suite.double.apiKey}`);
    expect(create?.body).toMatchObject({
      mode: 'preview',
      prompt: 'a red low-poly fox',
      seed: 5,
      target_polycount: 10_000,
    });

    // Once the result links have expired, the copies are still served.
    const glbLink = suite.double.requests.filter((request) => request.path.includes('/model.glb')).at(-1)
      ?.path as string;
    const expires = Number(new URL(glbLink, suite.double.url).searchParams.get('expires'));
    await sleep(Math.max(0, expires - Date.now() + 10));
    expect((await fetch(`${suite.double.url}${glbLink}`)).status).toBe(403);
    const files = await suite.downloads(job);
    expect([...files.keys()].sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    // Meshy offers no PLY: it is derived from the GLB.
    const assets = await suite.assets(job.id);
    const glb = assets.find((asset) => asset.format === 'glb');
    expect(assets.find((asset) => asset.format === 'ply')?.triangles).toBe(glb?.triangles);
    expect(sha256(files.get('glb') as Buffer)).toBe(glb?.sha256);
  });

  it('waits out a 429 as Retry-After says, within the same attempt', async () => {
    suite.double.faults = { rateLimitCreates: 2 };
    const before = creates();
    const { job } = await suite.run('a patient turtle');
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.attempts).toBe(1);
    const posts = suite.double.requests.filter((request) => request.method === 'POST').slice(before);
    expect(posts).toHaveLength(3);
    expect((posts[2]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_900);
  });

  it("fails with GENERATION_FAILED and Meshy's task_error message", async () => {
    suite.double.faults = { failTasks: true };
    const { job } = await suite.run('an impossible shape');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('GENERATION_FAILED');
    expect(await suite.failureDetail(job.id)).toContain('could not be turned into a model');
  });

  it('does not retry when the account has no credits', async () => {
    suite.double.faults = { noCredits: true };
    const { job } = await suite.run('an expensive yacht');
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1);
    expect(job.error?.code).toBe('MODEL_SERVER_REJECTED');
    expect(await suite.failureDetail(job.id)).toContain('no credits');
  });

  it('retries a 500 while polling', async () => {
    suite.double.faults = { failPolls: 1 };
    const { job } = await suite.run('a sturdy anvil');
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(2);
  });

  it('fails with MODEL_SERVER_BAD_RESPONSE on malformed JSON', async () => {
    suite.double.faults = { garbagePolls: true };
    const { job } = await suite.run('a garbled map');
    expect(job.error?.code).toBe('MODEL_SERVER_BAD_RESPONSE');
  });

  it('fails with MODEL_SERVER_TIMEOUT when polls go unanswered', async () => {
    suite.double.faults = { silentPolls: true };
    const { job } = await suite.run('a mute trumpet');
    expect(job.error?.code).toBe('MODEL_SERVER_TIMEOUT');
  });

  it('keeps nothing of a GLB cut off mid-download', async () => {
    suite.double.faults = { truncateGlb: true };
    const { job } = await suite.run('a torn flag');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('OUTPUT_INVALID');
    expect(await suite.failureDetail(job.id)).toContain('cut short');
    expect(await suite.assets(job.id)).toHaveLength(0);
  });

  it("never fetches a result link on a non-public address unless it is on the API's own origin", async () => {
    const internal = await startContractServer((_request, response) =>
      sendJson(response, 200, { secret: 'internal' }),
    );
    try {
      suite.double.faults = { resultOrigin: internal.url.replace('127.0.0.1', 'localhost') };
      const { job } = await suite.run('a fox behind a firewall');
      expect(job.status).toBe('failed');
      expect(job.attempts).toBe(1);
      expect(job.error?.code).toBe('MODEL_SERVER_BAD_RESPONSE');
      expect(await suite.failureDetail(job.id)).toContain('not on the public internet (loopback address)');
      expect(internal.requests).toHaveLength(0);
    } finally {
      await internal.close();
    }
  });

  it('gives up on a task that never finishes at the job deadline, deleting it', async () => {
    suite.double.faults = { neverFinish: true };
    const before = suite.double.deleted.size;
    const { job } = await suite.run('an endless staircase');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('JOB_TIMEOUT');
    expect(suite.double.deleted.size).toBe(before + 2);
  });

  it('deletes the remote task when the job is canceled', async () => {
    suite.double.faults = { neverFinish: true };
    const seen = suite.double.requests.length;
    const created = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a forgotten kite' },
      suite.user.token,
    );
    const poll = await suite.double.waitForRequest(
      (request) => request.method === 'GET' && request.path.startsWith('/openapi/v2/text-to-3d/'),
      seen,
    );
    const taskId = poll.path.split('/').pop() as string;
    await callRest(suite.server.url, 'POST', `/jobs/${String(created.body.id)}/cancel`, {}, suite.user.token);
    const updates = await followJob(clientFor(suite.server, suite.user), String(created.body.id));
    expect(updates.at(-1)?.status).toBe('canceled');
    await suite.double.waitForRequest(
      (request) => request.method === 'DELETE' && request.path.endsWith(taskId),
      seen,
    );
    expect(suite.double.deleted.has(taskId)).toBe(true);
  });
});

describe('the meshy adapter with images (image to 3D, v1)', () => {
  const imageTasks = '/openapi/v1/image-to-3d';
  async function runImageJob(bytes: Uint8Array, body: Record<string, unknown> = {}) {
    const image = await uploadImage(suite.server, suite.user, bytes);
    const created = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { imageAssetId: image.id, ...body },
      suite.user.token,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const updates = await followJob(clientFor(suite.server, suite.user), String(created.body.id));
    return { image, job: updates.at(-1) as TJob };
  }

  it('sends the stored image as a data URI, textured, polls the image task and copies its files', async () => {
    suite.double.faults = {};
    const seen = suite.double.requests.length;
    const { image, job } = await runImageJob(await pngWithProfile(40, 40), { params: { quality: 'draft' } });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.inputType).toBe('image');
    const created = suite.double.imageTasks.at(-1);
    const [, base64] = /^data:image\/png;base64,(.+)$/.exec(created?.image_url ?? '') ?? [];
    expect(sha256(Buffer.from(base64 ?? '', 'base64'))).toBe(image.sha256);
    expect(created).toMatchObject({ should_texture: true, target_polycount: 10_000, topology: 'triangle' });
    expect(created?.texture_prompt).toBeUndefined();
    const calls = suite.double.requests.slice(seen).map((request) => `${request.method} ${request.path}`);
    expect(calls.some((call) => call.startsWith(`GET ${imageTasks}/`))).toBe(true);
    expect(calls.some((call) => call.startsWith('POST /openapi/v2/text-to-3d'))).toBe(false);
    expect(job.outputs.map((output) => output.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
  });

  it('sends a WebP as PNG (v1 reads JPEG and PNG) and the prompt as texture_prompt', async () => {
    suite.double.faults = {};
    const { job } = await runImageJob(await webpImage(36, 24), { prompt: 'weathered bronze' });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.inputType).toBe('text+image');
    const created = suite.double.imageTasks.at(-1);
    expect(created?.texture_prompt).toBe('weathered bronze');
    const [, base64] = /^data:image\/png;base64,(.+)$/.exec(created?.image_url ?? '') ?? [];
    const sent = await sharp(Buffer.from(base64 ?? '', 'base64')).metadata();
    expect([sent.format, sent.width, sent.height]).toEqual(['png', 36, 24]);
  });

  it("fails without retrying when Meshy refuses the image, in Meshy's words in the log", async () => {
    suite.double.faults = { refuseImages: 'Image could not be processed: no object found.' };
    const { job } = await runImageJob(await pngWithProfile(40, 40));
    expect([job.status, job.error?.code, job.attempts]).toEqual(['failed', 'MODEL_SERVER_REJECTED', 1]);
    expect(await suite.failureDetail(job.id)).toContain('no object found');
  });

  it('reports a failed image task as GENERATION_FAILED, and no credits as MODEL_SERVER_REJECTED', async () => {
    suite.double.faults = { failTasks: true };
    const failed = await runImageJob(await pngWithProfile(40, 40));
    expect(failed.job.error?.code).toBe('GENERATION_FAILED');
    suite.double.faults = { noCredits: true };
    const broke = await runImageJob(await pngWithProfile(40, 40));
    expect([broke.job.error?.code, broke.job.attempts]).toEqual(['MODEL_SERVER_REJECTED', 1]);
  });

  it('deletes the image task when the job is canceled', async () => {
    suite.double.faults = { neverFinish: true };
    const seen = suite.double.requests.length;
    const image = await uploadImage(suite.server, suite.user, await pngWithProfile(40, 40));
    const created = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { imageAssetId: image.id },
      suite.user.token,
    );
    const poll = await suite.double.waitForRequest(
      (request) => request.method === 'GET' && request.path.startsWith(`${imageTasks}/`),
      seen,
    );
    const taskId = poll.path.split('/').pop() as string;
    await callRest(suite.server.url, 'POST', `/jobs/${String(created.body.id)}/cancel`, {}, suite.user.token);
    await suite.double.waitForRequest(
      (request) => request.method === 'DELETE' && request.path === `${imageTasks}/${taskId}`,
      seen,
    );
    expect(suite.double.deleted.has(taskId)).toBe(true);
  });
});

describe('the meshy adapter with a wrong API key', () => {
  const wrongKey = useAdapterSuite(startMeshyServer, (meshy) => ({
    MESHY_URL: meshy.url,
    MESHY_API_KEY: 'msy_revoked_key',
    DEFAULT_MODEL_SERVER: 'meshy',
  }));

  it('fails at once with MODEL_SERVER_REJECTED, never showing the key', async () => {
    const { job } = await wrongKey.run('a locked door');
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(1);
    expect(job.error?.code).toBe('MODEL_SERVER_REJECTED');
    const detail = await wrongKey.failureDetail(job.id);
    expect(detail).toContain('API key');
    expect(detail).not.toContain('msy_revoked_key');
    expect(JSON.stringify(job)).not.toContain('msy_revoked_key');
  });
});
