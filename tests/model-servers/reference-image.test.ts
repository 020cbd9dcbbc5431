import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

import { NodeIO } from '@gltf-transform/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createModelHttpClient,
  createReferenceModelServer,
  startReferenceModelServer,
  type RunningReferenceServer,
} from '@gen3d/server';

import {
  forwardRequest,
  sendUpstreamAnswer,
  startContractServer,
} from '../support/contracts/contract-server.js';
import { discWithAlpha, imageField, plainPng, squareOnWhite } from '../support/reference-images.js';

interface Validator {
  validateBytes(
    data: Uint8Array,
    options: { format: 'glb' },
  ): Promise<{ issues: { numErrors: number; messages: Array<{ code: string; message: string }> } }>;
}
const validator = createRequire(import.meta.url)('gltf-validator') as Validator;

let reference: RunningReferenceServer;
beforeAll(async () => {
  reference = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs: 0 });
});
afterAll(async () => {
  await reference.close();
});

const post = (body: unknown): Promise<Response> =>
  fetch(`${reference.url}/v1/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

interface Finished {
  interpretation: string;
  files: Map<string, Buffer>;
}

/** Creates a generation, reads its (immediate) result and downloads every file it lists. */
async function generate(body: unknown): Promise<Finished> {
  const created = await post(body);
  expect(created.status, await created.clone().text()).toBe(202);
  const { id } = (await created.json()) as { id: string };
  const status = (await (await fetch(`${reference.url}/v1/generations/${id}`)).json()) as {
    status: string;
    interpretation: string;
    files: Array<{ name: string; contentType: string; bytes: number }>;
  };
  expect(status.status).toBe('succeeded');
  const files = new Map<string, Buffer>();
  for (const file of status.files) {
    const response = await fetch(`${reference.url}/v1/generations/${id}/files/${file.name}`);
    expect(response.headers.get('content-type')).toContain(file.contentType);
    files.set(file.name, Buffer.from(await response.arrayBuffer()));
  }
  return { interpretation: status.interpretation, files };
}

const file = (finished: Finished, name: string): Buffer => {
  const bytes = finished.files.get(name);
  if (!bytes) throw new Error(`no ${name} among ${[...finished.files.keys()].join(', ')}`);
  return bytes;
};

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('the reference model server makes a textured relief from an image', () => {
  it('gives a GLB the Khronos validator passes, with the image as the base-colour texture', async () => {
    const image = await discWithAlpha();
    const result = await generate({ image: imageField(image), seed: 3 });
    expect([...result.files.keys()].sort()).toEqual([
      'mesh.glb',
      'mesh.mtl',
      'mesh.obj',
      'mesh.ply',
      'texture.png',
    ]);
    expect(result.interpretation).toMatch(/96x64 image .* taken from its alpha/);

    const glb = file(result, 'mesh.glb');
    const report = await validator.validateBytes(glb, { format: 'glb' });
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages.slice(0, 3))).toBe(0);

    const document = await new NodeIO().readBinary(glb);
    const [material] = document.getRoot().listMaterials();
    const texture = material?.getBaseColorTexture();
    expect(texture?.getMimeType()).toBe('image/png');
    expect(material?.getBaseColorTextureInfo()?.getWrapS()).toBe(33071); // CLAMP_TO_EDGE
    const [primitive] = document.getRoot().listMeshes()[0]?.listPrimitives() ?? [];
    expect(primitive?.getAttribute('TEXCOORD_0')?.getCount()).toBe(
      primitive?.getAttribute('POSITION')?.getCount(),
    );
    // The embedded image is the texture file, and shows the input (same size, same pixels where opaque).
    const embedded = texture?.getImage() as Uint8Array;
    expect(sha256(embedded)).toBe(sha256(file(result, 'texture.png')));
    const metadata = await sharp(embedded).metadata();
    expect([metadata.width, metadata.height, metadata.hasAlpha]).toEqual([96, 64, true]);
    const { data } = await sharp(embedded).raw().toBuffer({ resolveWithObject: true });
    const { data: original } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
    const centre = (32 * 96 + 48) * 4;
    expect([...data.subarray(centre, centre + 4)]).toEqual([...original.subarray(centre, centre + 4)]);

    // The relief: the silhouette is a disc (no vertex beyond it), the front rises above the flat back.
    const positions = primitive?.getAttribute('POSITION');
    const [maxX, , maxZ] = positions?.getMax([]) as [number, number, number];
    const [minX, , minZ] = positions?.getMin([]) as [number, number, number];
    expect(maxX - minX).toBeLessThan(1.3); // the disc is 52 of the 96 px across a 2-unit width
    expect(maxZ).toBeGreaterThan(-minZ);
  });

  it('gives OBJ texture coordinates, an MTL naming the texture, and a PLY coloured from the texture', async () => {
    const result = await generate({ image: imageField(await discWithAlpha()), prompt: 'a sun', seed: 1 });
    const obj = file(result, 'mesh.obj').toString('utf8');
    expect(obj).toMatch(/^mtllib mesh\.mtl$/m);
    expect(obj).toMatch(/^vt [\d.]+ [\d.]+$/m);
    expect(obj).toMatch(/^f \d+\/\d+\/\d+ \d+\/\d+\/\d+ \d+\/\d+\/\d+$/m);
    expect(file(result, 'mesh.mtl').toString('utf8')).toMatch(/^map_Kd texture\.png$/m);
    expect(result.interpretation).toContain('the prompt names it');

    const ply = file(result, 'mesh.ply');
    const headerEnd = ply.indexOf('end_header\n') + 'end_header\n'.length;
    const header = ply.subarray(0, headerEnd).toString('ascii');
    expect(header).toContain('property uchar red');
    const vertices = Number(/element vertex (\d+)/.exec(header)?.[1]);
    const greens = new Set<number>();
    for (let vertex = 0; vertex < vertices; vertex += 1)
      greens.add(ply[headerEnd + vertex * 27 + 25] as number);
    // The disc runs from red to yellow: its vertices' green channel takes many values.
    expect(greens.size).toBeGreaterThan(10);
  });

  it('takes the silhouette from a flat background when the image has no alpha', async () => {
    const result = await generate({ image: imageField(await squareOnWhite(), 'image/jpeg'), seed: 0 });
    expect(result.interpretation).toMatch(
      /64x64 image on 64x64 cells \((\d+) inside the silhouette, taken from its background\)/,
    );
    const inside = Number(/\((\d+) inside/.exec(result.interpretation)?.[1]);
    // The square covers a quarter of the image (JPEG may blur its edge by a cell).
    expect(inside).toBeGreaterThan(900);
    expect(inside).toBeLessThan(1300);
    const report = await validator.validateBytes(file(result, 'mesh.glb'), { format: 'glb' });
    expect(report.issues.numErrors).toBe(0);
  });

  it('gives the same bytes for the same image and seed, and another relief for another seed', async () => {
    const image = imageField(await discWithAlpha());
    const first = await generate({ image, seed: 42, quality: 'draft' });
    const again = await generate({ image, seed: 42, quality: 'draft' });
    for (const [name, bytes] of first.files) expect(sha256(file(again, name)), name).toBe(sha256(bytes));
    const other = await generate({ image, seed: 43, quality: 'draft' });
    expect(sha256(file(other, 'mesh.glb'))).not.toBe(sha256(file(first, 'mesh.glb')));
    expect(sha256(file(other, 'texture.png'))).toBe(sha256(file(first, 'texture.png')));
  });

  it('refuses images it cannot take with a 4xx and a code', async () => {
    const png = await discWithAlpha();
    const refused = async (body: unknown): Promise<[number, string]> => {
      const response = await post(body);
      const answer = (await response.json()) as { code: string; error: string };
      expect(answer.error.length).toBeGreaterThan(0);
      return [response.status, answer.code];
    };
    expect(await refused({ image: { data: 'not base64!', mediaType: 'image/png' } })).toEqual([
      400,
      'IMAGE_NOT_BASE64',
    ]);
    expect(await refused({ image: imageField(Buffer.from('just some text, not an image')) })).toEqual([
      400,
      'IMAGE_UNREADABLE',
    ]);
    expect(await refused({ image: imageField(png, 'image/webp') })).toEqual([400, 'IMAGE_TYPE_MISMATCH']);
    expect(await refused({ image: imageField(png.subarray(0, png.length - 40)) })).toEqual([
      400,
      'IMAGE_UNREADABLE',
    ]);
    expect(await refused({ image: imageField(await plainPng(5000, 8)) })).toEqual([413, 'IMAGE_TOO_LARGE']);
    const overLimit = 'A'.repeat(Math.ceil((8 * 2 ** 20) / 3) * 4 + 4);
    expect(await refused({ image: { data: overLimit, mediaType: 'image/png' } })).toEqual([
      413,
      'IMAGE_TOO_LARGE',
    ]);
    expect(
      await refused({ image: { data: `${overLimit}${'A'.repeat(2 ** 20)}`, mediaType: 'image/png' } }),
    ).toEqual([413, 'BODY_TOO_LARGE']);
    expect(await refused({ image: { data: png.toString('base64'), mediaType: 'image/gif' } })).toEqual([
      400,
      'INVALID_REQUEST',
    ]);
    expect(await refused({ seed: 1 })).toEqual([400, 'INVALID_REQUEST']);
  });
});

describe('the reference adapter', () => {
  it('takes images, sends the request image as base64 with its media type, and brings back the texture', async () => {
    const recorder = await startContractServer(async (request, response) => {
      sendUpstreamAnswer(response, await forwardRequest(reference.url, request));
    });
    const http = createModelHttpClient({
      connectTimeoutMs: 5000,
      responseTimeoutMs: 30_000,
      maxBytes: 2 ** 26,
    });
    try {
      const adapter = createReferenceModelServer('reference', recorder.url, http);
      expect(adapter.inputs).toEqual({ text: true, image: true });
      const bytes = await discWithAlpha();
      const request = {
        image: { bytes, mediaType: 'image/png' as const, width: 96, height: 64 },
        seed: 8,
        quality: 'draft' as const,
        formats: ['glb' as const, 'obj' as const],
      };
      const signal = AbortSignal.timeout(60_000);
      const taskId = await adapter.submit(request, signal);
      expect(recorder.requests[0]?.body).toEqual({
        seed: 8,
        quality: 'draft',
        image: { data: bytes.toString('base64'), mediaType: 'image/png' },
      });
      const status = await adapter.poll(taskId, request, signal);
      expect(status.state).toBe('succeeded');
      const files = status.state === 'succeeded' ? status.files : [];
      expect(files.map((file) => file.format).sort()).toEqual(['glb', 'mtl', 'obj', 'png']);
      expect((await sharp(files.find((file) => file.format === 'png')?.bytes).metadata()).format).toBe('png');

      // Without an OBJ (no MTL to name it) the texture stays embedded in the GLB and is not fetched.
      const glbOnly = { ...request, formats: ['glb' as const] };
      const glbTask = await adapter.submit(glbOnly, signal);
      const glbStatus = await adapter.poll(glbTask, glbOnly, signal);
      expect(glbStatus.state === 'succeeded' && glbStatus.files.map((file) => file.format)).toEqual(['glb']);
    } finally {
      await http.close();
      await recorder.close();
    }
  });
});
