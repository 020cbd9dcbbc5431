import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TAsset, TAuditEvent, TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor, followJob } from '../support/generation.js';
import {
  baseColorsOf,
  download,
  glbOfParts,
  validatedGlbStats,
  wavyGrid,
} from '../support/postprocess-meshes.js';
import { callRest } from '../support/rest.js';
import { GENEROUS_LIMITS, startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let server: TestServer;
let admin: SignedIn;
let user: SignedIn;
let other: SignedIn;

beforeAll(async () => {
  database = await startTestDatabase();
  server = await startTestServer(database, {
    env: {
      ...GENEROUS_LIMITS,
      POSTPROCESS_DAILY_QUOTA: '1000',
      // The cancel test registers a mesh of some megabytes, and a cancel reaches its worker at once.
      BODY_LIMIT_BYTES: String(16 * 2 ** 20),
      JOB_CANCEL_CHECK_MS: '20',
    },
  });
  admin = await signInNewAdmin(server);
  user = await signInNewUser(server, admin, 'mesh.maker@example.com');
  other = await signInNewUser(server, admin, 'someone.else@example.com');
});

afterAll(async () => {
  await server?.close();
  await database?.stop();
});

/** An admin registers the file as an asset of the user (checked like any model output). */
async function registered(
  bytes: Buffer,
  format: 'glb' | 'obj' | 'ply' = 'glb',
  owner: SignedIn = user,
): Promise<TAsset> {
  const answer = await callRest(
    server.url,
    'POST',
    '/assets',
    { format, data: bytes.toString('base64'), userId: owner.id },
    admin.token,
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body as unknown as TAsset;
}

const postprocess = (assetId: string, body: Record<string, unknown>, who: SignedIn = user) =>
  callRest(server.url, 'POST', `/assets/${assetId}/postprocess`, body, who.token);

/** Queues over REST and follows the job to its end over the SDK's live updates. */
async function finished(assetId: string, body: Record<string, unknown>): Promise<TJob> {
  const queued = await postprocess(assetId, body);
  expect(queued.status, JSON.stringify(queued.body)).toBe(201);
  const updates = await followJob(clientFor(server, user), String(queued.body.id));
  const job = updates.at(-1) as TJob;
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  return job;
}

/** The job's assets as the asset listing shows them. */
async function assetsOf(jobId: string): Promise<TAsset[]> {
  const answer = await callRest(server.url, 'GET', `/assets?jobId=${jobId}`, undefined, user.token);
  expect(answer.status).toBe(200);
  return answer.body as unknown as TAsset[];
}

describe('POST /api/assets/:id/postprocess', () => {
  it('simplifies by ratio and by target count to within bounds; the result passes the Khronos validator and names its source', async () => {
    const source = await registered(await glbOfParts(wavyGrid(40, { shared: true })));
    expect(source.triangles).toBe(3200);

    const byRatio = await finished(source.id, { kind: 'simplify', ratio: 0.25 });
    expect(byRatio).toMatchObject({
      kind: 'simplify',
      postprocess: { sourceAssetId: source.id, sourceJobId: null, ratio: 0.25, format: 'glb' },
      progress: 100,
    });
    const [simplified] = await assetsOf(byRatio.id);
    expect(simplified).toMatchObject({ format: 'glb', sourceAssetId: source.id, jobId: byRatio.id });
    const stats = await validatedGlbStats(await download(simplified?.url as string));
    expect(stats.triangles).toBeGreaterThan(0);
    expect(stats.triangles).toBeLessThanOrEqual(800);
    expect(simplified?.triangles).toBe(stats.triangles);

    const byCount = await finished(source.id, { kind: 'simplify', targetTriangles: 500 });
    expect(byCount.postprocess).toMatchObject({ targetTriangles: 500 });
    const [counted] = await assetsOf(byCount.id);
    const countedStats = await validatedGlbStats(await download(counted?.url as string));
    expect(countedStats.triangles).toBeGreaterThan(0);
    expect(countedStats.triangles).toBeLessThanOrEqual(500);
  });

  it('welds duplicate vertices (through the SDK), keeping every triangle', async () => {
    const source = await registered(await glbOfParts(wavyGrid(10, { shared: false })));
    expect(source).toMatchObject({ vertices: 400, triangles: 200 });
    const progress: number[] = [];
    const { job, assets } = await clientFor(server, user).postprocess(
      source.id,
      { kind: 'weld' },
      { onProgress: (update) => progress.push(update.progress) },
    );
    expect(job).toMatchObject({ kind: 'weld', status: 'succeeded', postprocess: { format: 'glb' } });
    expect(progress.at(-1)).toBe(100);
    const stats = await validatedGlbStats(await download(assets[0]?.url as string));
    expect(stats).toMatchObject({ vertices: 121, triangles: 200 });
  });

  it('re-centres on the origin and scales the largest side to 1', async () => {
    const source = await registered(await glbOfParts(wavyGrid(12, { shared: true })));
    expect(source.bbox?.min[0]).toBeCloseTo(3);
    const job = await finished(source.id, { kind: 'recenter' });
    const [centred] = await assetsOf(job.id);
    const { bbox } = await validatedGlbStats(await download(centred?.url as string));
    const sizes = bbox.max.map((max, axis) => max - (bbox.min[axis] as number));
    const centre = bbox.max.map((max, axis) => (max + (bbox.min[axis] as number)) / 2);
    expect(Math.max(...sizes)).toBeCloseTo(1, 5);
    for (const value of centre) expect(value).toBeCloseTo(0, 5);
    // The proportions stay: the grid is 4 x ~2 x 2, so the other sides are about half the largest.
    expect(sizes[2]).toBeCloseTo(0.5, 5);
  });

  it('converts GLB to OBJ (with its MTL) and PLY and back, keeping the triangles and the bounds', async () => {
    const source = await registered(await glbOfParts(wavyGrid(8, { shared: true })));
    for (const format of ['obj', 'ply'] as const) {
      const converted = await finished(source.id, { kind: 'convert', format });
      const files = await assetsOf(converted.id);
      expect(files.map((file) => file.format).sort()).toEqual(format === 'obj' ? ['mtl', 'obj'] : ['ply']);
      const mesh = files.find((file) => file.format === format) as TAsset;
      expect(mesh).toMatchObject({ triangles: 128, sourceAssetId: source.id });
      const back = await finished(mesh.id, { kind: 'convert', format: 'glb' });
      const [glb] = await assetsOf(back.id);
      expect(glb).toMatchObject({ format: 'glb', sourceAssetId: mesh.id });
      const bytes = await download(glb?.url as string);
      const stats = await validatedGlbStats(bytes);
      expect(stats.triangles).toBe(128);
      // The colour came along: from the MTL for OBJ, from the vertex colours for PLY.
      const [color] = await baseColorsOf(bytes);
      [0.8, 0.4, 0.2].forEach((channel, index) => expect(color?.[index]).toBeCloseTo(channel, 2));
      stats.bbox.min.forEach((value, axis) => expect(value).toBeCloseTo(source.bbox?.min[axis] as number, 4));
      stats.bbox.max.forEach((value, axis) => expect(value).toBeCloseTo(source.bbox?.max[axis] as number, 4));
    }
  });

  it("post-processes a generated model into the source's chat, as an assistant message with the new files", async () => {
    const client = clientFor(server, user);
    const generated = await client.generate('a red sphere on a blue cube');
    const glb = generated.assets.find((asset) => asset.format === 'glb') as { assetId: string };
    const sourceTriangles = (await assetsOf(generated.job.id)).find((asset) => asset.format === 'glb')
      ?.triangles as number;
    const { job, assets } = await client.postprocess(glb.assetId, {
      kind: 'simplify',
      ratio: 0.5,
      format: 'obj',
    });
    expect(job).toMatchObject({
      kind: 'simplify',
      chatId: generated.job.chatId,
      prompt: 'a red sphere on a blue cube',
      postprocess: { sourceJobId: generated.job.id, format: 'obj' },
    });
    expect(assets.map((asset) => asset.format).sort()).toEqual(['mtl', 'obj']);
    const obj = (await assetsOf(job.id)).find((asset) => asset.format === 'obj') as TAsset;
    // The reference model's flat faces have vertices of their own: each face keeps its two triangles at least,
    // so the count falls but need not reach half (docs/postprocessing.md).
    expect(obj.triangles).toBeLessThan(sourceTriangles);
    const messages = await client.messages.list.query({ chatId: generated.job.chatId as string });
    const answer = messages.find((message) => message.jobId === job.id);
    expect(answer).toMatchObject({ role: 'assistant', type: 'model' });
    expect(answer?.content).toContain('simplified');
    expect(answer?.attachments.map((attachment) => attachment.assetId).sort()).toEqual(
      assets.map((asset) => asset.assetId).sort(),
    );
  });
});

describe('post-processing requests', () => {
  it('gives the same job for the same idempotency key, from the body or the header', async () => {
    const source = await registered(await glbOfParts(wavyGrid(4, { shared: true })));
    const first = await postprocess(source.id, { kind: 'weld', idempotencyKey: 'weld-once' });
    const again = await postprocess(source.id, { kind: 'weld', idempotencyKey: 'weld-once' });
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const headers = {
      authorization: `Bearer ${user.token}`,
      'content-type': 'application/json',
      'idempotency-key': 'recenter-once',
    };
    const sent = () =>
      fetch(`${server.url}/api/assets/${source.id}/postprocess`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ kind: 'recenter' }),
      }).then((response) => response.json() as Promise<TJob>);
    const [one, two] = [await sent(), await sent()];
    expect(one.kind).toBe('recenter');
    expect(two.id).toBe(one.id);
  });
});

describe('post-processing faults', () => {
  it('answers NOT_FOUND for an unknown asset and for one of someone else', async () => {
    const unknown = await postprocess(new Types.ObjectId().toHexString(), { kind: 'weld' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
    const theirs = await registered(await glbOfParts(wavyGrid(4, { shared: true })), 'glb', other);
    const foreign = await postprocess(theirs.id, { kind: 'weld' });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('NOT_FOUND');
    // Over tRPC too, through the SDK.
    await expect(
      clientFor(server, user).postprocessing.create.mutate({ id: theirs.id, kind: 'weld' }),
    ).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
  });

  it('refuses a material file, bad parameters and a target above the source with 4xx codes', async () => {
    const source = await registered(await glbOfParts(wavyGrid(6, { shared: true })));
    const converted = await finished(source.id, { kind: 'convert', format: 'obj' });
    const mtl = (await assetsOf(converted.id)).find((asset) => asset.format === 'mtl') as TAsset;
    const material = await postprocess(mtl.id, { kind: 'weld' });
    expect(material.status).toBe(400);
    expect(material.body.code).toBe('ASSET_NOT_POSTPROCESSABLE');

    const refused: Array<[Record<string, unknown>, number, string]> = [
      [{ kind: 'simplify', ratio: 0 }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'simplify', ratio: 1.5 }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'simplify' }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'simplify', ratio: 0.5, targetTriangles: 10 }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'simplify', targetTriangles: 2 }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'weld', ratio: 0.5 }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'convert' }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'convert', format: 'fbx' }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'explode' }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'weld', colour: 'red' }, 400, 'VALIDATION_FAILED'],
      [{ kind: 'convert', format: 'glb' }, 400, 'BAD_REQUEST'],
      [{ kind: 'simplify', targetTriangles: 72 }, 400, 'POSTPROCESS_TARGET_TOO_HIGH'],
      [{ kind: 'simplify', targetTriangles: 5000 }, 400, 'POSTPROCESS_TARGET_TOO_HIGH'],
    ];
    for (const [body, status, code] of refused) {
      const answer = await postprocess(source.id, body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.code, JSON.stringify(answer.body)).toBe(code);
      expect(answer.body.error).toEqual(expect.any(String));
    }
    const notAnId = await postprocess('not-an-id', { kind: 'weld' });
    expect(notAnId.status).toBe(400);
    // Nothing was queued for any of them.
    const jobs = await callRest(server.url, 'GET', '/jobs?limit=200', undefined, user.token);
    const onSource = (jobs.body as unknown as TJob[]).filter(
      (job) => job.postprocess?.sourceAssetId === source.id,
    );
    expect(onSource.map((job) => job.id)).toEqual([converted.id]);
  });

  it('records who post-processed what in the audit log', async () => {
    const source = await registered(await glbOfParts(wavyGrid(5, { shared: true })));
    const job = await finished(source.id, { kind: 'simplify', targetTriangles: 20 });
    const answer = await callRest(
      server.url,
      'GET',
      `/admin/audit?targetId=${source.id}&action=asset.postprocessed&limit=200`,
      undefined,
      admin.token,
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const events = answer.body.events as TAuditEvent[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'asset.postprocessed',
      actor: { userId: user.id, email: user.email, via: 'api' },
      target: { type: 'asset', id: source.id, label: 'glb model.glb' },
      details: { jobId: job.id, kind: 'simplify', targetTriangles: 20, format: 'glb', sourceTriangles: 50 },
    });
  });

  it('cancels a running post-processing job: it ends canceled and leaves no assets', async () => {
    // About 320,000 triangles: simplifying them keeps a mesh worker busy well past the cancel.
    const source = await registered(await glbOfParts(wavyGrid(400, { shared: true })));
    const client = clientFor(server, user);
    const queued = await postprocess(source.id, { kind: 'simplify', ratio: 0.05 });
    expect(queued.status, JSON.stringify(queued.body)).toBe(201);
    const jobId = String(queued.body.id);
    // Progress 5: the source is read and its mesh task handed to a worker thread.
    await followJob(client, jobId, (job) => job.status === 'running' && job.progress >= 5);
    const canceled = await callRest(server.url, 'POST', `/jobs/${jobId}/cancel`, undefined, user.token);
    expect(canceled.status).toBe(200);
    const final = (await followJob(client, jobId)).at(-1) as TJob;
    expect(final).toMatchObject({ status: 'canceled', outputs: [] });
    expect(await assetsOf(jobId)).toEqual([]);

    // The SDK's postprocess() cancels its job when its signal aborts.
    const controller = new AbortController();
    let abortedJob = '';
    const aborted = client.postprocess(
      source.id,
      { kind: 'simplify', ratio: 0.05 },
      {
        signal: controller.signal,
        onProgress: (update) => {
          abortedJob = update.id;
          if (update.status === 'running' && update.progress >= 5)
            controller.abort(new Error('not this one after all'));
        },
      },
    );
    await expect(aborted).rejects.toThrow('not this one after all');
    const stopped = (await followJob(client, abortedJob)).at(-1) as TJob;
    expect(stopped).toMatchObject({ status: 'canceled', outputs: [] });
  });

  it('reads a job record written before kinds existed as a generation', async () => {
    const { job } = await clientFor(server, user).generate('an old cone');
    await server.app.database.connection
      .collection('jobs')
      .updateOne({ _id: new Types.ObjectId(job.id) }, { $unset: { kind: '', postprocess: '' } });
    const read = await callRest(server.url, 'GET', `/jobs/${job.id}`, undefined, user.token);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ kind: 'generate', postprocess: null, status: 'succeeded' });
  });
});

describe('post-processing limits', () => {
  let limited: TestServer;
  let maker: SignedIn;

  beforeAll(async () => {
    limited = await startTestServer(database, {
      mongodbUri: server.mongodbUri,
      env: { ...GENEROUS_LIMITS, POSTPROCESS_DAILY_QUOTA: '2', POSTPROCESS_MAX_TRIANGLES: '1000' },
    });
    maker = await signInNewUser(limited, admin, 'quota.keeper@example.com');
  });

  afterAll(async () => {
    await limited?.close();
  });

  it('refuses a source over the triangle cap', async () => {
    const big = await registered(await glbOfParts(wavyGrid(30, { shared: true })), 'glb', maker);
    const answer = await callRest(
      limited.url,
      'POST',
      `/assets/${big.id}/postprocess`,
      { kind: 'weld' },
      maker.token,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('POSTPROCESS_SOURCE_TOO_LARGE');
  });

  it('keeps a daily quota of its own: generations do not use it, and it does not stop generations', async () => {
    const client = clientFor(limited, maker);
    const { assets } = await client.generate('a quota cube');
    const glb = assets.find((asset) => asset.format === 'glb') as { assetId: string };
    const call = () =>
      callRest(limited.url, 'POST', `/assets/${glb.assetId}/postprocess`, { kind: 'recenter' }, maker.token);
    const queued = [await call(), await call()];
    expect(queued.map((answer) => answer.status)).toEqual([201, 201]);
    const over = await call();
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('QUOTA_EXCEEDED');
    expect(over.body.error).toContain('post-processing');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    const generation = await callRest(limited.url, 'POST', '/jobs', { prompt: 'still allowed' }, maker.token);
    expect(generation.status).toBe(201);
    // The jobs end before the suite stops the servers.
    for (const answer of [...queued, generation])
      expect(
        (await followJob(client, String(answer.body.id))).at(-1),
        'the job, with its error if it failed',
      ).toMatchObject({ status: 'succeeded' });
  });
});

describe('a source deleted before its job runs', () => {
  let apiOnly: TestServer;
  let worker: TestServer | undefined;

  beforeAll(async () => {
    // No instance runs jobs of this database until the source is gone.
    apiOnly = await startTestServer(database, { env: { ...GENEROUS_LIMITS, WORKER_CONCURRENCY: '0' } });
  });

  afterAll(async () => {
    await worker?.close();
    await apiOnly?.close();
  });

  it('fails the job with SOURCE_MISSING, not retried, and says so in the chat', async () => {
    const boss = await signInNewAdmin(apiOnly, 'boss@example.com');
    const owner = await signInNewUser(apiOnly, boss, 'forgetful@example.com');
    const glb = await glbOfParts(wavyGrid(4, { shared: true }));
    const source = await callRest(
      apiOnly.url,
      'POST',
      '/assets',
      { format: 'glb', data: glb.toString('base64'), userId: owner.id },
      boss.token,
    );
    expect(source.status).toBe(201);
    const sourceId = String(source.body.id);
    const queued = await callRest(
      apiOnly.url,
      'POST',
      `/assets/${sourceId}/postprocess`,
      { kind: 'weld' },
      owner.token,
    );
    expect(queued.body.status).toBe('queued');
    await apiOnly.app.database.connection
      .collection('assets')
      .deleteOne({ _id: new Types.ObjectId(sourceId) });
    worker = await startTestServer(database, { mongodbUri: apiOnly.mongodbUri, env: GENEROUS_LIMITS });
    const client = clientFor(apiOnly, owner);
    const final = (await followJob(client, String(queued.body.id))).at(-1) as TJob;
    expect(final).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'SOURCE_MISSING' } });
    const messages = await client.messages.list.query({ chatId: final.chatId as string });
    expect(messages.find((message) => message.jobId === final.id)?.content).toContain('deleted');
  });
});
