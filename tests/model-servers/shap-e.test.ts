import { describe, expect, it } from 'vitest';

import { sha256, useAdapterSuite } from '../support/contracts/adapter-suite.js';
import { startShapEServer } from '../support/contracts/shap-e-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';

const suite = useAdapterSuite(startShapEServer, (shapE) => ({
  SHAP_E_URL: shapE.url,
  DEFAULT_MODEL_SERVER: 'shap-e',
  SHAP_E_TIMEOUT_MS: '1500',
}));

describe('the shap-e adapter (synchronous POST /generate3D, files under /data/assets)', () => {
  it('is the default model server when configured so, and copies every file the server wrote', async () => {
    suite.double.faults = {};
    const { job } = await suite.run('a red low-poly fox', { quality: 'high', steps: 40 });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.params.modelServer).toBe('shap-e');

    const call = suite.double.requests.filter((request) => request.path === '/generate3D').at(-1);
    expect(call?.body).toEqual({
      prompt: 'a red low-poly fox',
      guidanceScale: 15,
      steps: 40,
      frameSize: 512,
    });

    const served = [...suite.double.files.values()].at(-1) as Map<string, Uint8Array>;
    const downloaded = await suite.downloads(job);
    expect([...downloaded.keys()].sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    // Byte for byte, but for the OBJ's `mtllib`, which names the MTL as it is stored.
    const storedName = (bytes: Uint8Array, format: string): Uint8Array =>
      format === 'obj'
        ? Buffer.from(
            Buffer.from(bytes)
              .toString('latin1')
              .replace(/^mtllib .*$/m, 'mtllib model.mtl'),
            'latin1',
          )
        : bytes;
    for (const [format, bytes] of downloaded)
      expect(sha256(bytes), format).toBe(
        sha256(storedName(served.get(`mesh.${format}`) as Uint8Array, format)),
      );
  });

  it('derives a file the server does not have from its GLB', async () => {
    suite.double.faults = { missing: ['ply', 'mtl'] };
    const { job } = await suite.run('a blue teapot');
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const assets = await suite.assets(job.id);
    const byFormat = new Map(assets.map((asset) => [asset.format, asset]));
    expect([...byFormat.keys()].sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    // The derived PLY and OBJ hold the GLB's triangles.
    expect(byFormat.get('ply')?.triangles).toBe(byFormat.get('glb')?.triangles);
    expect(byFormat.get('obj')?.triangles).toBe(byFormat.get('glb')?.triangles);
    const files = await suite.downloads(job);
    expect(files.get('ply')?.subarray(0, 4).toString('ascii')).toBe('ply\n');
    expect(files.get('mtl')?.toString('utf8')).toContain('newmtl');
  });

  it('retries a 500 and succeeds when the server recovers', async () => {
    suite.double.faults = { failGenerates: 1 };
    const { job } = await suite.run('a green cactus');
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(2);
  });

  it('fails with MODEL_SERVER_BAD_RESPONSE on malformed JSON', async () => {
    suite.double.faults = { garbageAnswer: true };
    const { job } = await suite.run('a garbled lamp');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('MODEL_SERVER_BAD_RESPONSE');
  });

  it('fails with MODEL_SERVER_TIMEOUT when the synchronous call outlasts SHAP_E_TIMEOUT_MS', async () => {
    suite.double.faults = { hang: true };
    const { job } = await suite.run('a silent bell');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('MODEL_SERVER_TIMEOUT');
  });

  it('keeps nothing of a truncated GLB', async () => {
    suite.double.faults = { truncateGlb: true };
    const { job } = await suite.run('a broken vase');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('OUTPUT_INVALID');
    expect(await suite.assets(job.id)).toHaveLength(0);
  });

  it('cancels a running generation by aborting the call', async () => {
    suite.double.faults = { hang: true };
    const seen = suite.double.requests.length;
    const created = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a slow castle' },
      suite.user.token,
    );
    const generate = await suite.double.waitForRequest((request) => request.path === '/generate3D', seen);
    const canceled = await callRest(
      suite.server.url,
      'POST',
      `/jobs/${String(created.body.id)}/cancel`,
      {},
      suite.user.token,
    );
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
    const updates = await followJob(clientFor(suite.server, suite.user), String(created.body.id));
    expect(updates.at(-1)?.status).toBe('canceled');
    expect(await generate.abandoned).toBe(true);
  });
});
