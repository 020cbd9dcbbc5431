import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import type { TAsset, TJob } from '@gen3d/client';

import type { SignedIn } from '../support/accounts.js';
import { useFaultySuite } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { glbWithPlacedTriangle } from '../support/hostile-meshes.js';
import { callRest } from '../support/rest.js';

// The test server's own signed URLs (127.0.0.1) serve as download sources; nothing else local is allowed.
const suite = useFaultySuite({
  MODEL_SERVER_POLL_INTERVAL_MS: '50',
  JOB_MAX_ATTEMPTS: '1',
  JOB_POLL_INTERVAL_MS: '100',
  ASSET_SOURCE_ALLOWED_HOSTS: '127.0.0.1',
});

const listen = (server: Server): Promise<void> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
const portOf = (server: Server): number => (server.address() as AddressInfo).port;

const patch = (jobId: string, body: unknown, who: SignedIn) =>
  callRest(suite.server.url, 'PATCH', `/jobs/${jobId}`, body, who.token);

describe('PATCH /api/jobs/:id (admins)', () => {
  it('retries a failed job from scratch', async () => {
    suite.faulty.faults.failSubmits = 1;
    const created = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a retried cube' },
      suite.user.token,
    );
    const jobId = String(created.body.id);
    const failed = (await followJob(clientFor(suite.server, suite.user), jobId)).at(-1) as TJob;
    expect(failed.status).toBe('failed');
    expect((await patch(jobId, { status: 'queued' }, suite.user)).status).toBe(403);
    const retried = await patch(jobId, { status: 'queued' }, suite.admin);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ status: 'queued', attempts: 0, error: null });
    const final = (await followJob(clientFor(suite.server, suite.user), jobId)).at(-1) as TJob;
    expect(final).toMatchObject({ status: 'succeeded', attempts: 1 });
    const again = await patch(jobId, { status: 'queued' }, suite.admin);
    expect(again.status).toBe(409);
  });

  it('sets the progress of a running job and fails it with an error', async () => {
    suite.faulty.faults.neverFinish = true;
    const created = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a stuck sphere' },
      suite.user.token,
    );
    const jobId = String(created.body.id);
    await followJob(clientFor(suite.server, suite.user), jobId, (job) => job.status === 'running');
    expect((await patch(jobId, { progress: 42 }, suite.admin)).body).toMatchObject({
      status: 'running',
      progress: 42,
    });
    expect((await patch(jobId, { status: 'succeeded' }, suite.admin)).status).toBe(400);
    expect((await patch(jobId, { error: { code: 'X', message: 'y' } }, suite.admin)).status).toBe(400);
    const seen = suite.faulty.requests.length;
    const failed = await patch(
      jobId,
      { status: 'failed', error: { code: 'STUCK', message: 'Stuck for hours' } },
      suite.admin,
    );
    expect(failed.body).toMatchObject({
      status: 'failed',
      error: { code: 'STUCK', message: 'Stuck for hours' },
    });
    expect((await patch(jobId, { progress: 10 }, suite.admin)).status).toBe(409);
    // The worker notices its job is no longer running and stops the model server's task.
    await suite.faulty.waitForRequest(
      (request) => request.method === 'DELETE' && request.path.startsWith('/v1/generations/'),
      seen,
    );
    const messages = (
      await callRest(
        suite.server.url,
        'GET',
        `/messages?chatId=${String(created.body.chatId)}`,
        undefined,
        suite.user.token,
      )
    ).body as unknown as Array<{ role: string; content: string }>;
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: expect.stringContaining('STUCK') });
  });
});

/** An admin registers a GLB into the suite's user's account. */
const registerForUser = (glb: Buffer) =>
  callRest(
    suite.server.url,
    'POST',
    '/assets',
    { format: 'glb', data: glb.toString('base64'), userId: suite.user.id },
    suite.admin.token,
  );

describe('POST /api/assets (admins)', () => {
  it('registers a checked file for a user, from base64 or a URL', async () => {
    const created = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a source pyramid' },
      suite.user.token,
    );
    const job = (await followJob(clientFor(suite.server, suite.user), String(created.body.id))).at(
      -1,
    ) as TJob;
    const glbUrl = job.outputs.find((output) => output.format === 'glb')?.url as string;
    const glb = Buffer.from(await (await fetch(glbUrl)).arrayBuffer());

    expect(
      (
        await callRest(
          suite.server.url,
          'POST',
          '/assets',
          { format: 'glb', data: glb.toString('base64') },
          suite.user.token,
        )
      ).status,
    ).toBe(403);
    const fromData = await registerForUser(glb);
    expect(fromData.status, JSON.stringify(fromData.body)).toBe(201);
    expect(fromData.body).toMatchObject({
      format: 'glb',
      bytes: glb.length,
      vertices: expect.any(Number),
      url: expect.stringContaining('/assets/'),
    });
    const listed = (await callRest(suite.server.url, 'GET', '/assets?limit=200', undefined, suite.user.token))
      .body as unknown as TAsset[];
    expect(listed.some((asset) => asset.id === fromData.body.id)).toBe(true);

    const fromUrl = await callRest(
      suite.server.url,
      'POST',
      '/assets',
      { format: 'glb', sourceUrl: glbUrl, jobId: job.id, userId: suite.user.id },
      suite.admin.token,
    );
    expect(fromUrl.status, JSON.stringify(fromUrl.body)).toBe(201);
    expect(fromUrl.body).toMatchObject({ jobId: job.id, chatId: job.chatId, sha256: fromData.body.sha256 });

    const broken = await callRest(
      suite.server.url,
      'POST',
      '/assets',
      { format: 'glb', data: Buffer.from('not a model').toString('base64') },
      suite.admin.token,
    );
    expect(broken.status).toBe(400);
    expect(broken.body.error).toContain('Invalid GLB');
    const both = await callRest(
      suite.server.url,
      'POST',
      '/assets',
      { format: 'ply', data: 'AAAA', sourceUrl: glbUrl },
      suite.admin.token,
    );
    expect(both.status).toBe(400);
    const foreignJob = await callRest(
      suite.server.url,
      'POST',
      '/assets',
      { format: 'glb', data: glb.toString('base64'), jobId: job.id },
      suite.admin.token,
    );
    expect(foreignJob.status).toBe(404);
  });

  it('measures a file in world space: node translation, rotation and scale are applied', async () => {
    // The triangle (0,0,0) (1,0,0) (0,1,0), scaled by 2, turned 90 degrees about z, moved by (10, 0, -3).
    const turn = Math.SQRT1_2;
    const glb = glbWithPlacedTriangle({
      translation: [10, 0, -3],
      rotation: [0, 0, turn, turn],
      scale: [2, 2, 2],
    });
    const answer = await registerForUser(glb);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({ vertices: 3, triangles: 1 });
    const { min, max } = answer.body.bbox as { min: number[]; max: number[] };
    [8, 0, -3].forEach((value, axis) => expect(min[axis]).toBeCloseTo(value, 5));
    [10, 2, -3].forEach((value, axis) => expect(max[axis]).toBeCloseTo(value, 5));
  });

  it('fetches sourceUrl from public addresses only, unless ASSET_SOURCE_ALLOWED_HOSTS names the host', async () => {
    const port = new URL(suite.server.url).port;
    const refused = [
      // A name is refused without the address it resolved to, which would map the internal network.
      {
        sourceUrl: `http://localhost:${port}/health`,
        shown: /^[^]*localhost is a loopback address[^]*$/,
        range: 'loopback',
      },
      // Other spellings of internal addresses, which the URL parser and the check must both see through.
      {
        sourceUrl: 'http://2852039166/',
        shown: /169\.254\.169\.254 is a linkLocal address/,
        range: 'linkLocal',
      },
      { sourceUrl: 'http://0xa9.0xfe.0xa9.0xfe/', shown: /169\.254\.169\.254 is/, range: 'linkLocal' },
      { sourceUrl: 'http://0251.0376.0251.0376/', shown: /169\.254\.169\.254 is/, range: 'linkLocal' },
      {
        sourceUrl: 'http://[::ffff:127.0.0.1]/',
        shown: /::ffff:7f00:1 is a loopback address/,
        range: 'loopback',
      },
      { sourceUrl: 'http://[::127.0.0.1]/', shown: /::7f00:1 is a reserved address/, range: 'reserved' },
      { sourceUrl: 'http://[64:ff9b::7f00:1]/', shown: /is a rfc6052 address/, range: 'rfc6052' },
      { sourceUrl: 'http://[2002:7f00:1::]/', shown: /is a 6to4 address/, range: '6to4' },
      { sourceUrl: 'http://[fc00::1]/', shown: /is a uniqueLocal address/, range: 'uniqueLocal' },
      { sourceUrl: 'http://100.64.0.1/', shown: /is a carrierGradeNat address/, range: 'carrierGradeNat' },
      { sourceUrl: 'http://0.0.0.0/', shown: /is a unspecified address/, range: 'unspecified' },
      {
        sourceUrl: 'http://169.254.169.254/latest/meta-data/',
        shown: /169\.254\.169\.254 is a linkLocal address/,
        range: 'linkLocal',
      },
      { sourceUrl: `http://[::1]:${port}/health`, shown: /::1 is a loopback address/, range: 'loopback' },
      { sourceUrl: 'http://10.0.0.7/model.glb', shown: /10\.0\.0\.7 is a private address/, range: 'private' },
    ];
    for (const { sourceUrl, shown, range } of refused) {
      const answer = await callRest(
        suite.server.url,
        'POST',
        '/assets',
        { format: 'glb', sourceUrl, userId: suite.user.id },
        suite.admin.token,
      );
      expect(answer.status, sourceUrl).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'BAD_REQUEST',
        issues: [{ path: 'sourceUrl', message: `not a public address (${range})` }],
      });
      expect(answer.body.error).toMatch(shown);
      expect(answer.body.error).toContain('ASSET_SOURCE_ALLOWED_HOSTS');
      if (sourceUrl.includes('localhost')) expect(answer.body.error).not.toMatch(/127\.0\.0\.1|::1/);
    }
  });

  it('never follows a redirect from a sourceUrl, so an allowed host cannot point past the policy', async () => {
    let reachedTarget = 0;
    const target = createServer((_request, response) => {
      reachedTarget += 1;
      response.end('solid');
    });
    const redirecting = createServer((_request, response) => {
      response.writeHead(302, { location: `http://127.0.0.1:${portOf(target)}/model.glb` }).end();
    });
    await Promise.all([listen(target), listen(redirecting)]);
    try {
      const answer = await callRest(
        suite.server.url,
        'POST',
        '/assets',
        {
          format: 'glb',
          sourceUrl: `http://127.0.0.1:${portOf(redirecting)}/model.glb`,
          userId: suite.user.id,
        },
        suite.admin.token,
      );
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ issues: [{ path: 'sourceUrl', message: 'download failed' }] });
      expect(answer.body.error).toContain('answered 302 (redirects are not followed)');
      expect(reachedTarget).toBe(0);
    } finally {
      target.close();
      redirecting.close();
    }
  });
});
