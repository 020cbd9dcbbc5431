import { createRequire } from 'node:module';

import { NodeIO } from '@gltf-transform/core';
import { beforeEach, describe, expect, it } from 'vitest';

import { sha256, useAdapterSuite } from '../support/contracts/adapter-suite.js';
import { startImageModelServer } from '../support/image-model-server.js';
import { discWithAlpha, imageField, plainPng } from '../support/reference-images.js';

interface Validator {
  validateBytes(data: Uint8Array, options: { format: 'glb' }): Promise<{ issues: { numErrors: number } }>;
}
const validator = createRequire(import.meta.url)('gltf-validator') as Validator;

// Jobs carry no image yet through this branch's API: the proxy adds one to each task, so the real reference
// server makes a textured model and gen3d checks, links and stores it as it would for an image job.
const suite = useAdapterSuite(startImageModelServer, (server) => ({ MODEL_SERVER_URL: server.url }));

beforeEach(async () => {
  suite.double.image = imageField(await discWithAlpha());
  suite.double.missing = [];
  suite.double.replaced = new Map();
});

/** The texture a GLB embeds as its first material's base colour. */
async function embeddedTexture(glb: Uint8Array): Promise<Uint8Array | undefined> {
  const document = await new NodeIO().readBinary(glb);
  return document.getRoot().listMaterials()[0]?.getBaseColorTexture()?.getImage() ?? undefined;
}

describe('textured models from a model server', () => {
  it('stores the texture as a png asset, and OBJ and MTL name the files as they are stored', async () => {
    const { job } = await suite.run('a sun', { seed: 5 });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.outputs.map((output) => output.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply', 'png']);
    const assets = await suite.assets(job.id);
    const texture = assets.find((asset) => asset.format === 'png');
    expect(texture).toMatchObject({ kind: 'texture', fileName: 'texture.png', contentType: 'image/png' });
    expect(job.outputs.find((output) => output.format === 'png')?.kind).toBe('texture');
    const mtlAsset = assets.find((asset) => asset.format === 'mtl');

    const files = await suite.downloads(job);
    const glb = files.get('glb') as Buffer;
    expect((await validator.validateBytes(glb, { format: 'glb' })).issues.numErrors).toBe(0);
    expect(sha256((await embeddedTexture(glb)) as Uint8Array)).toBe(sha256(files.get('png') as Buffer));
    expect(texture?.sha256).toBe(sha256(files.get('png') as Buffer));

    // Saved side by side under their names, the OBJ finds its MTL and the MTL its texture.
    const obj = (files.get('obj') as Buffer).toString('utf8');
    expect(obj.match(/^mtllib .*$/gm)).toEqual([`mtllib ${mtlAsset?.fileName}`]);
    expect(obj).toMatch(/^vt /m);
    const mtl = (files.get('mtl') as Buffer).toString('utf8');
    expect(mtl.match(/^map_Kd .*$/gm)).toEqual([`map_Kd ${texture?.fileName}`]);
  });

  it('derives OBJ, MTL and the texture from the textured GLB when the server sends only that', async () => {
    suite.double.missing = ['mesh.obj', 'mesh.mtl', 'mesh.ply', 'texture.png'];
    const { job } = await suite.run('a derived sun', { seed: 5 });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.outputs.map((output) => output.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply', 'png']);
    const files = await suite.downloads(job);
    expect(sha256(files.get('png') as Buffer)).toBe(
      sha256((await embeddedTexture(files.get('glb') as Buffer)) as Uint8Array),
    );
    const obj = (files.get('obj') as Buffer).toString('utf8');
    expect(obj).toMatch(/^mtllib model\.mtl$/m);
    expect(obj).toMatch(/^f \d+\/\d+\/\d+ /m);
    expect((files.get('mtl') as Buffer).toString('utf8')).toMatch(/^map_Kd texture\.png$/m);
    // The derived PLY carries the texture's colours: the disc runs from red to yellow.
    const ply = files.get('ply') as Buffer;
    const start = ply.indexOf('end_header\n') + 'end_header\n'.length;
    const vertices = Number(/element vertex (\d+)/.exec(ply.subarray(0, start).toString('ascii'))?.[1]);
    const greens = new Set<number>();
    for (let vertex = 0; vertex < vertices; vertex += 1) greens.add(ply[start + vertex * 27 + 25] as number);
    expect(greens.size).toBeGreaterThan(10);
  });

  it('keeps only the GLB, texture embedded, when only a GLB is asked for', async () => {
    const { job } = await suite.run('a lone sun', { formats: ['glb'] });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.outputs.map((output) => output.format)).toEqual(['glb']);
    expect(await embeddedTexture((await suite.downloads(job)).get('glb') as Buffer)).toBeDefined();
  });

  it('stores the same bytes for the same image and seed', async () => {
    const first = await suite.run('a sun', { seed: 9 });
    const second = await suite.run('a sun', { seed: 9 });
    const digests = async (jobId: string): Promise<Record<string, string>> =>
      Object.fromEntries((await suite.assets(jobId)).map((asset) => [asset.format, asset.sha256]));
    expect(await digests(second.job.id)).toEqual(await digests(first.job.id));
  });

  it('refuses a texture that is not a PNG, keeping no file', async () => {
    suite.double.replaced.set('texture.png', Buffer.from('GIF89a, or so it says'));
    const { job } = await suite.run('a broken sun');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('OUTPUT_INVALID');
    expect(await suite.failureDetail(job.id)).toContain('PNG');
    expect(await suite.assets(job.id)).toHaveLength(0);
  });

  it('refuses a texture larger than 4096 px on a side', async () => {
    suite.double.replaced.set('texture.png', await plainPng(4097, 2));
    const { job } = await suite.run('a huge sun');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('OUTPUT_INVALID');
    expect(await suite.failureDetail(job.id)).toContain('4096 px');
  });

  it('makes untextured models from prompts as before when no image is given', async () => {
    suite.double.image = undefined;
    const { job } = await suite.run('a red cube');
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.outputs.map((output) => output.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    const files = await suite.downloads(job);
    expect((files.get('obj') as Buffer).toString('utf8')).toMatch(/^mtllib model\.mtl$/m);
    expect((files.get('mtl') as Buffer).toString('utf8')).not.toMatch(/map_Kd/);
  });
});
