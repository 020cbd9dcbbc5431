import { createHash, randomBytes } from 'node:crypto';

import { Types } from 'mongoose';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { isGen3dError, type TAsset, type TJob, type TMessage } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { useAdapterSuite } from '../support/contracts/adapter-suite.js';
import { startHunyuan3dServer } from '../support/contracts/hunyuan3d-server.js';
import { clientFor, followJob } from '../support/generation.js';
import {
  gifImage,
  jpegWithGps,
  pngBomb,
  pngWithProfile,
  postImage,
  uploadImage,
  webpImage,
} from '../support/images.js';
import { callRest } from '../support/rest.js';

const IMAGE_MAX_BYTES = 300_000;

// Hunyuan3D-2 takes images; Shap-E (never called here) and the reference server take text only.
const suite = useAdapterSuite(startHunyuan3dServer, (hunyuan) => ({
  HUNYUAN3D_URL: hunyuan.url,
  HUNYUAN3D_DEADLINE_MS: '1500',
  SHAP_E_URL: hunyuan.url,
  IMAGE_MAX_BYTES: String(IMAGE_MAX_BYTES),
  IMAGE_MAX_DIMENSION: '2048',
  IMAGE_MAX_PIXELS: '1000000',
  USER_MAX_ASSET_MB: '1',
}));

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function download(asset: Pick<TAsset, 'url'>): Promise<{ contentType: string; bytes: Buffer }> {
  const response = await fetch(asset.url);
  expect(response.status).toBe(200);
  return {
    contentType: response.headers.get('content-type') ?? '',
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

async function createJob(body: Record<string, unknown>, token = suite.user.token) {
  return callRest(suite.server.url, 'POST', '/jobs', body, token);
}

async function listedAssets(token = suite.user.token): Promise<TAsset[]> {
  return (await callRest(suite.server.url, 'GET', '/assets?limit=200', undefined, token))
    .body as unknown as TAsset[];
}

describe('input images (POST /api/assets/images, assets.uploadImage)', () => {
  it('keeps a JPEG upright, at its real size, re-encoded without its EXIF and GPS data', async () => {
    const original = await jpegWithGps(64, 32);
    expect((await sharp(original).metadata()).exif?.toString('latin1')).toContain('GenCam');
    const answer = await postImage(suite.server, suite.user, original);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const asset = answer.body as unknown as TAsset;
    // The EXIF orientation turned it a quarter: the stored image is upright, so 32 wide and 64 tall.
    expect(asset).toMatchObject({
      kind: 'image',
      format: 'jpeg',
      contentType: 'image/jpeg',
      width: 32,
      height: 64,
      jobId: null,
      vertices: null,
    });
    const stored = await download(asset);
    expect(stored.contentType).toBe('image/jpeg');
    expect(sha256(stored.bytes)).toBe(asset.sha256);
    expect(asset.bytes).toBe(stored.bytes.byteLength);
    const metadata = await sharp(stored.bytes).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['jpeg', 32, 64]);
    expect(metadata.exif).toBeUndefined();
    expect(metadata.orientation).toBeUndefined();
    expect(stored.bytes.toString('latin1')).not.toMatch(/GenCam|secret garden/);
  });

  it('strips a PNG of its ICC profile, keeps an opaque WebP a WebP, and stores a transparent WebP as PNG', async () => {
    const withProfile = await pngWithProfile(48, 40);
    expect((await sharp(withProfile).metadata()).icc).toBeDefined();
    const png = await uploadImage(suite.server, suite.user, withProfile);
    expect([png.format, png.width, png.height]).toEqual(['png', 48, 40]);
    expect((await sharp((await download(png)).bytes).metadata()).icc).toBeUndefined();

    const opaque = await uploadImage(suite.server, suite.user, await webpImage(40, 30, false));
    expect([opaque.format, opaque.contentType]).toEqual(['webp', 'image/webp']);
    const transparent = await uploadImage(suite.server, suite.user, await webpImage(40, 30, true));
    expect([transparent.format, transparent.contentType]).toEqual(['png', 'image/png']);
    const decoded = await sharp((await download(transparent)).bytes).metadata();
    expect([decoded.format, decoded.hasAlpha]).toEqual(['png', true]);
  });

  it('refuses what is not a usable image with a 4xx naming why, storing nothing', async () => {
    const before = (await listedAssets()).length;
    const jpeg = await jpegWithGps();
    const noise = await sharp(randomBytes(400 * 400 * 3), { raw: { width: 400, height: 400, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(noise.byteLength).toBeGreaterThan(IMAGE_MAX_BYTES);
    const cases: Array<[string, Uint8Array, number, string, RegExp]> = [
      ['text', Buffer.from('just some words, not a picture'), 400, 'NOT_AN_IMAGE', /not an image/],
      ['a GIF', await gifImage(), 415, 'IMAGE_FORMAT_UNSUPPORTED', /GIF images are not supported/],
      [
        'an SVG',
        Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
        415,
        'IMAGE_FORMAT_UNSUPPORTED',
        /SVG/,
      ],
      ['a file over IMAGE_MAX_BYTES', noise, 413, 'IMAGE_TOO_LARGE', /at most 0\.3 MB/],
      ['a truncated JPEG', jpeg.subarray(0, jpeg.byteLength - 60), 400, 'IMAGE_CORRUPT', /damaged/],
      [
        'a PNG signature and nothing else',
        Buffer.from('89504e470d0a1a0a', 'hex'),
        400,
        'IMAGE_CORRUPT',
        /damaged/,
      ],
      // 82 bytes declaring 100000×100000 pixels: refused from its header, before any decoding.
      ['an image bomb', pngBomb(100_000, 100_000), 413, 'IMAGE_TOO_MANY_PIXELS', /100000×100000/],
      // Within the width and height caps, over the pixel count.
      ['too many pixels', pngBomb(2000, 2000), 413, 'IMAGE_TOO_MANY_PIXELS', /2000×2000/],
    ];
    for (const [what, bytes, status, code, message] of cases) {
      const answer = await postImage(suite.server, suite.user, bytes);
      expect([answer.status, answer.body.code], what).toEqual([status, code]);
      expect(String(answer.body.error), what).toMatch(message);
      expect(JSON.stringify(answer.body), what).not.toMatch(/stack|at .*\.ts/);
    }
    expect((await listedAssets()).length).toBe(before);
  });

  it('counts images against the storage quota', async () => {
    const hoarder = await signInNewUser(suite.server, await adminOf(), 'image-hoarder@example.com');
    // About 290 kB each: three fit in 1 MiB, a fourth does not.
    const noise = await sharp(randomBytes(310 * 310 * 3), { raw: { width: 310, height: 310, channels: 3 } })
      .png()
      .toBuffer();
    const statuses: number[] = [];
    let last: Record<string, unknown> = {};
    for (let index = 0; index < 4; index += 1) {
      const answer = await postImage(suite.server, hoarder, noise);
      statuses.push(answer.status);
      last = answer.body;
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect(last.code).toBe('QUOTA_EXCEEDED');
  });

  it('uploads through the SDK, whose errors carry the codes', async () => {
    const client = clientFor(suite.server, suite.user);
    const asset = await client.uploadImage(new Blob([new Uint8Array(await pngWithProfile(20, 10))]));
    expect([asset.kind, asset.format, asset.width, asset.height]).toEqual(['image', 'png', 20, 10]);
    const refused = await client.uploadImage(await gifImage()).catch((error: unknown) => error);
    expect(isGen3dError(refused, 'IMAGE_FORMAT_UNSUPPORTED')).toBe(true);
    expect(isGen3dError(refused) && refused.status).toBe(415);
  });
});

let admin: SignedIn | undefined;
async function adminOf(): Promise<SignedIn> {
  admin ??= await signInNewAdmin(suite.server, 'image-admin@example.com');
  return admin;
}

describe('jobs from text, an image, or both', () => {
  it('makes a model from an image alone through the SDK, sending the stored image to Hunyuan3D-2', async () => {
    const client = clientFor(suite.server, suite.user);
    const image = await client.uploadImage(await jpegWithGps(64, 32));
    const { job, assets } = await client.generate(
      { imageAssetId: image.id },
      { params: { modelServer: 'hunyuan3d', quality: 'draft', seed: 7 } },
    );
    expect(job).toMatchObject({
      status: 'succeeded',
      prompt: '',
      inputType: 'image',
      params: { imageAssetId: image.id, modelServer: 'hunyuan3d' },
    });
    expect(assets.map((asset) => asset.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    // The server sent the re-encoded image (as stored), as plain base64 in `image`, and no text.
    const send = suite.double.requests.filter((request) => request.path === '/send').at(-1);
    const body = send?.body as Record<string, unknown>;
    expect(body.text).toBeUndefined();
    expect(sha256(Buffer.from(String(body.image), 'base64'))).toBe(image.sha256);
    // The chat shows the image as the user's message.
    const messages = (
      await callRest(
        suite.server.url,
        'GET',
        `/messages?chatId=${String(job.chatId)}`,
        undefined,
        suite.user.token,
      )
    ).body as unknown as TMessage[];
    expect(messages[0]).toMatchObject({ role: 'user', type: 'image', content: '' });
    expect(messages[0]?.attachments).toEqual([
      expect.objectContaining({ assetId: image.id, kind: 'image', format: 'jpeg' }),
    ]);
    expect(messages.at(-1)?.content).toContain('made from your image');
  });

  it('takes a prompt and an image together over REST (text+image), and the blocking POST /api/generate', async () => {
    const image = await uploadImage(suite.server, suite.user, await pngWithProfile(30, 30));
    const created = await createJob({
      prompt: 'a blue crate',
      imageAssetId: image.id,
      params: { modelServer: 'hunyuan3d', quality: 'draft' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ inputType: 'text+image', prompt: 'a blue crate' });
    const updates = await followJob(clientFor(suite.server, suite.user), String(created.body.id));
    expect(updates.at(-1)?.status).toBe('succeeded');

    const generated = await callRest(
      suite.server.url,
      'POST',
      '/generate',
      { imageAssetId: image.id, modelServer: 'hunyuan3d', quality: 'draft' },
      suite.user.token,
    );
    expect(generated.status, JSON.stringify(generated.body)).toBe(200);
    expect(Object.keys(generated.body.files as object).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    const job = (
      await callRest(
        suite.server.url,
        'GET',
        `/jobs/${String(generated.body.id)}`,
        undefined,
        suite.user.token,
      )
    ).body as unknown as TJob;
    expect([job.inputType, job.params.imageAssetId]).toEqual(['image', image.id]);
  });

  it('refuses an image job for a text-only model server at creation, with a 400 naming it', async () => {
    const image = await uploadImage(suite.server, suite.user, await webpImage());
    for (const modelServer of ['shap-e']) {
      const refused = await createJob({ prompt: 'a chair', imageAssetId: image.id, params: { modelServer } });
      expect([refused.status, refused.body.code], modelServer).toEqual([400, 'MODEL_SERVER_TAKES_NO_IMAGES']);
      expect(String(refused.body.error)).toContain(`Model server "${modelServer}" takes text only`);
      expect(String(refused.body.error)).toContain('hunyuan3d');
    }
    const viaSdk = await clientFor(suite.server, suite.user)
      .generate({ imageAssetId: image.id }, { params: { modelServer: 'shap-e' } })
      .catch((error: unknown) => error);
    expect(isGen3dError(viaSdk, 'MODEL_SERVER_TAKES_NO_IMAGES')).toBe(true);
    // Text alone still goes to a text-only server.
    expect((await createJob({ prompt: 'a chair', params: { modelServer: 'reference' } })).status).toBe(201);
  });

  it("refuses someone else's image (NOT_FOUND), a model file given as an image, and a job with neither prompt nor image", async () => {
    const other = await signInNewUser(suite.server, await adminOf(), 'image-owner@example.com');
    const theirs = await uploadImage(suite.server, other, await webpImage());
    const notFound = await createJob({ imageAssetId: theirs.id, params: { modelServer: 'hunyuan3d' } });
    expect([notFound.status, notFound.body.code]).toEqual([404, 'NOT_FOUND']);
    const generateNotFound = await callRest(
      suite.server.url,
      'POST',
      '/generate',
      { imageAssetId: theirs.id, modelServer: 'hunyuan3d' },
      suite.user.token,
    );
    expect([generateNotFound.status, generateNotFound.body.code]).toEqual([404, 'NOT_FOUND']);

    const { job } = await suite.run('a model to misuse', { modelServer: 'hunyuan3d', formats: ['glb'] });
    const glb = job.outputs[0]?.assetId as string;
    const notImage = await createJob({ imageAssetId: glb, params: { modelServer: 'hunyuan3d' } });
    expect([notImage.status, notImage.body.code]).toEqual([400, 'NOT_AN_IMAGE_ASSET']);

    const neither = await createJob({ params: { modelServer: 'hunyuan3d' } });
    expect([neither.status, neither.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(JSON.stringify(neither.body)).toContain('give a prompt, an imageAssetId, or both');
  });

  it('fails at the deadline when Hunyuan3D-2 cannot open the image (its task then never completes)', async () => {
    suite.double.faults = { unreadableImages: true };
    try {
      const image = await uploadImage(suite.server, suite.user, await webpImage());
      const created = await createJob({ imageAssetId: image.id, params: { modelServer: 'hunyuan3d' } });
      const updates = await followJob(clientFor(suite.server, suite.user), String(created.body.id));
      const job = updates.at(-1) as TJob;
      expect([job.status, job.error?.code]).toEqual(['failed', 'MODEL_SERVER_TIMEOUT']);
      expect(job.attempts).toBe(2);
    } finally {
      suite.double.faults = {};
    }
  });
});

describe('a job whose input image is gone before it runs', () => {
  // The retry waits 5 to 15 s: time enough, even on a busy machine, for the test to delete the image once
  // the job's live updates show the retry scheduled.
  const slowRetry = useAdapterSuite(startHunyuan3dServer, (hunyuan) => ({
    HUNYUAN3D_URL: hunyuan.url,
    JOB_RETRY_BASE_MS: '10000',
    JOB_RETRY_MAX_MS: '10000',
  }));

  it('fails with INPUT_IMAGE_MISSING, without retrying', async () => {
    const image = await uploadImage(slowRetry.server, slowRetry.user, await webpImage());
    slowRetry.double.faults = { failSends: 1 };
    const created = await callRest(
      slowRetry.server.url,
      'POST',
      '/jobs',
      { imageAssetId: image.id, params: { modelServer: 'hunyuan3d' } },
      slowRetry.user.token,
    );
    const client = clientFor(slowRetry.server, slowRetry.user);
    await followJob(client, String(created.body.id), (job) => job.status === 'queued' && job.attempts === 1);
    const deleted = await slowRetry.server.app.database.connection
      .collection('assets')
      .deleteOne({ _id: new Types.ObjectId(image.id) });
    expect(deleted.deletedCount).toBe(1);
    const sends = slowRetry.double.requests.filter((request) => request.path === '/send').length;
    const updates = await followJob(client, String(created.body.id));
    const job = updates.at(-1) as TJob;
    expect([job.status, job.error?.code, job.attempts]).toEqual(['failed', 'INPUT_IMAGE_MISSING', 2]);
    expect(job.error?.message).toContain('image this job was made from was deleted');
    expect(slowRetry.double.requests.filter((request) => request.path === '/send').length).toBe(sends);
  });
});
