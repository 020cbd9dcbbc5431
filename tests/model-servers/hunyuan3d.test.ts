import { describe, expect, it } from 'vitest';

import { useAdapterSuite } from '../support/contracts/adapter-suite.js';
import { startHunyuan3dServer } from '../support/contracts/hunyuan3d-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';

const suite = useAdapterSuite(startHunyuan3dServer, (hunyuan) => ({
  HUNYUAN3D_URL: hunyuan.url,
  HUNYUAN3D_DEADLINE_MS: '1500',
}));

describe('the hunyuan3d adapter (POST /send, GET /status/{uid}, GLB as base64)', () => {
  it('is chosen per job, reports its phases as progress, and derives OBJ+MTL and PLY from the GLB', async () => {
    suite.double.faults = {};
    // Polls back off from 10 ms, then come every 50 ms: six polls processing outlast the 200 ms between two
    // progress writes, so the texturing phase is written too.
    suite.double.pollsPerPhase = 6;
    const { job, updates } = await suite
      .run('a wooden chair', {
        modelServer: 'hunyuan3d',
        quality: 'high',
        seed: 99,
      })
      .finally(() => {
        suite.double.pollsPerPhase = 2;
      });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');

    const send = suite.double.requests.filter((request) => request.path === '/send').at(-1);
    expect(send?.body).toMatchObject({
      text: 'a wooden chair',
      seed: 99,
      texture: true,
      octree_resolution: 380,
      num_inference_steps: 50,
      guidance_scale: 5,
    });
    const running = updates.filter((update) => update.status === 'running').map((update) => update.progress);
    expect(running.some((progress) => progress > 0 && progress < 50)).toBe(true);
    expect(running.some((progress) => progress >= 50 && progress < 100)).toBe(true);

    const assets = await suite.assets(job.id);
    const byFormat = new Map(assets.map((asset) => [asset.format, asset]));
    expect([...byFormat.keys()].sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    expect(byFormat.get('obj')?.triangles).toBe(byFormat.get('glb')?.triangles);
    expect(byFormat.get('ply')?.vertices).toBeGreaterThan(0);
    expect(byFormat.get('ply')?.triangles).toBe(byFormat.get('glb')?.triangles);
    const files = await suite.downloads(job);
    // The OBJ names its MTL by the name it is stored under.
    expect(files.get('obj')?.toString('utf8')).toMatch(/^mtllib model\.mtl$/m);
  });

  it('keeps only the formats asked for', async () => {
    suite.double.faults = {};
    const { job } = await suite.run('a small stool', { modelServer: 'hunyuan3d', formats: ['ply'] });
    expect(job.status).toBe('succeeded');
    expect(job.outputs.map((output) => output.format)).toEqual(['ply']);
  });

  it("turns the server's 404 {text, error_code} into GENERATION_FAILED in its words", async () => {
    suite.double.faults = { failSends: 10 };
    const { job } = await suite.run('a table', { modelServer: 'hunyuan3d' });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('GENERATION_FAILED');
    expect(job.error?.message).not.toContain('HIGH TRAFFIC');
    expect(await suite.failureDetail(job.id)).toContain('HIGH TRAFFIC');
  });

  it('enforces its own deadline on a task that never finishes', async () => {
    suite.double.faults = { neverFinish: true };
    const { job } = await suite.run('an endless spiral', { modelServer: 'hunyuan3d' });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('MODEL_SERVER_TIMEOUT');
    expect(await suite.failureDetail(job.id)).toContain('hunyuan3d');
  });

  it("fails a GLB that Khronos' validator rejects, keeping no file", async () => {
    suite.double.faults = { invalidGlb: true };
    const { job } = await suite.run('a crooked lamp', { modelServer: 'hunyuan3d' });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('OUTPUT_INVALID');
    expect(await suite.failureDetail(job.id)).toContain('ACCESSOR_MAX_MISMATCH');
    expect(await suite.assets(job.id)).toHaveLength(0);
  });

  it('fails a model that is not base64', async () => {
    suite.double.faults = { badBase64: true };
    const { job } = await suite.run('a noisy box', { modelServer: 'hunyuan3d' });
    expect(job.error?.code).toBe('OUTPUT_INVALID');
    expect(await suite.failureDetail(job.id)).toContain('base64');
  });

  it('fails a cut-off GLB with OUTPUT_INVALID', async () => {
    suite.double.faults = { truncateGlb: true };
    const { job } = await suite.run('half a bridge', { modelServer: 'hunyuan3d' });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('OUTPUT_INVALID');
    expect(await suite.assets(job.id)).toHaveLength(0);
  });

  it('fails with MODEL_SERVER_BAD_RESPONSE on malformed JSON', async () => {
    suite.double.faults = { garbageStatus: true };
    const { job } = await suite.run('a garbled drum', { modelServer: 'hunyuan3d' });
    expect(job.error?.code).toBe('MODEL_SERVER_BAD_RESPONSE');
  });

  it('fails with MODEL_SERVER_TIMEOUT when status requests go unanswered', async () => {
    suite.double.faults = { silentStatus: true };
    const { job } = await suite.run('a quiet harp', { modelServer: 'hunyuan3d' });
    expect(job.error?.code).toBe('MODEL_SERVER_TIMEOUT');
  });

  it('retries a 500 on status and fails with MODEL_SERVER_ERROR when it persists', async () => {
    suite.double.faults = { failStatus: true };
    const { job } = await suite.run('a failing fan', { modelServer: 'hunyuan3d' });
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(2);
    expect(job.error?.code).toBe('MODEL_SERVER_ERROR');
  });

  it('stops polling a canceled task', async () => {
    suite.double.faults = { neverFinish: true };
    const seen = suite.double.requests.length;
    const created = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a patient owl', params: { modelServer: 'hunyuan3d' } },
      suite.user.token,
    );
    await suite.double.waitForRequest((request) => request.path.startsWith('/status/'), seen);
    await callRest(suite.server.url, 'POST', `/jobs/${String(created.body.id)}/cancel`, {}, suite.user.token);
    const updates = await followJob(clientFor(suite.server, suite.user), String(created.body.id));
    expect(updates.at(-1)?.status).toBe('canceled');
    // Once the worker has let go, no poll follows the last one.
    const afterCancel = suite.double.requests.length;
    const next = await suite.double
      .waitForRequest((request) => request.path.startsWith('/status/'), afterCancel, 500)
      .catch(() => undefined);
    expect(next).toBeUndefined();
  });
});
