import { createRequire } from 'node:module';

import { NodeIO } from '@gltf-transform/core';
import { describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { clientFor, followJob } from '../support/generation.js';
import { postImage } from '../support/images.js';
import { discWithAlpha } from '../support/reference-images.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

interface Validator {
  validateBytes(data: Uint8Array, options: { format: 'glb' }): Promise<{ issues: { numErrors: number } }>;
}
const validator = createRequire(import.meta.url)('gltf-validator') as Validator;

// The default model server is the reference one, which takes images: the whole path is the product's own.
const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' } });

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/** The GLB passes the Khronos validator and its material maps a texture; the OBJ's MTL names the stored texture. */
async function expectTexturedModel(job: TJob): Promise<void> {
  expect(job.outputs.map((output) => output.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply', 'png']);
  const url = (format: string) => job.outputs.find((output) => output.format === format)?.url as string;
  const glb = await download(url('glb'));
  expect((await validator.validateBytes(glb, { format: 'glb' })).issues.numErrors).toBe(0);
  const document = await new NodeIO().readBinary(glb);
  expect(document.getRoot().listMaterials()[0]?.getBaseColorTexture()?.getMimeType()).toBe('image/png');
  expect((await download(url('mtl'))).toString('utf8')).toMatch(/^map_Kd texture\.png$/m);
  expect((await download(url('obj'))).toString('utf8')).toMatch(/^vt /m);
  expect((await download(url('png'))).subarray(1, 4).toString('ascii')).toBe('PNG');
}

describe('an image in, a textured model out, on the reference model server', () => {
  it('over REST (image alone) and through the SDK (image and prompt)', async () => {
    const admin = await signInNewAdmin(suite.server);
    const user = await signInNewUser(suite.server, admin, 'painter@example.com');
    const uploaded = await postImage(suite.server, user, await discWithAlpha());
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    const imageAssetId = String(uploaded.body.id);

    const queued = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { imageAssetId, params: { seed: 3 } },
      user.token,
    );
    expect(queued.status, JSON.stringify(queued.body)).toBe(201);
    expect(queued.body).toMatchObject({ inputType: 'image', params: { modelServer: 'reference' } });
    const client = clientFor(suite.server, user);
    const restJob = (await followJob(client, String(queued.body.id))).at(-1) as TJob;
    expect(restJob, 'the job, with its error if it failed').toMatchObject({ status: 'succeeded' });
    await expectTexturedModel(restJob);

    const { job: sdkJob } = await client.generate(
      { imageAssetId, prompt: 'a warm disc' },
      { params: { seed: 3 } },
    );
    expect(sdkJob).toMatchObject({ status: 'succeeded', inputType: 'text+image', prompt: 'a warm disc' });
    await expectTexturedModel(sdkJob);

    // A post-processing job repeats its source's prompt: popular prompts count what users wrote, once.
    const glb = sdkJob.outputs.find((output) => output.format === 'glb');
    const { job: recentred } = await client.postprocess(String(glb?.assetId), { kind: 'recenter' });
    expect(recentred).toMatchObject({ status: 'succeeded', kind: 'recenter', prompt: 'a warm disc' });
    const prompts = await callRest(
      suite.server.url,
      'GET',
      '/analytics/popular-prompts',
      undefined,
      user.token,
    );
    expect(prompts.status).toBe(200);
    expect((prompts.body as { popular: Array<{ prompt: string; count: number }> }).popular).toEqual([
      expect.objectContaining({ prompt: 'a warm disc', count: 1 }),
    ]);
  });
});
