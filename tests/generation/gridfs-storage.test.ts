import { readdirSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TAsset, TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let first: TestServer;
let second: TestServer;
let user: SignedIn;

beforeAll(async () => {
  database = await startTestDatabase();
  const env = { ASSET_STORAGE: 'gridfs', AUTH_RATE_LIMIT_MAX: '1000' };
  first = await startTestServer(database, { env: { ...env, WORKER_CONCURRENCY: '0' } });
  second = await startTestServer(database, {
    env: { ...env, WORKER_CONCURRENCY: '2' },
    mongodbUri: first.mongodbUri,
  });
  user = await signInNewUser(first, await signInNewAdmin(first), 'grid@example.com');
});

afterAll(async () => {
  await second.close();
  await first.close();
  await database.stop();
});

/** The same signed path on another instance: the signature covers the asset, file and expiry, not the host. */
function onInstance(url: string, server: TestServer): string {
  const parsed = new URL(url);
  return `${server.url}${parsed.pathname}${parsed.search}`;
}

describe('ASSET_STORAGE=gridfs', () => {
  it('stores job outputs in GridFS, serves them from every instance with ranges, and deletes their chunks', async () => {
    const created = await callRest(
      first.url,
      'POST',
      '/jobs',
      { prompt: 'a teal torus on a gold cube' },
      user.token,
    );
    const job = (await followJob(clientFor(first, user), String(created.body.id))).at(-1) as TJob;
    expect(job.status).toBe('succeeded');
    for (const server of [first, second]) expect(readdirSync(server.config.assets.dir)).toEqual([]);

    const assets = (await callRest(first.url, 'GET', `/assets?jobId=${job.id}`, undefined, user.token))
      .body as unknown as TAsset[];
    const ply = assets.find((asset) => asset.format === 'ply') as TAsset;
    const fromFirst = Buffer.from(await (await fetch(ply.url)).arrayBuffer());
    const fromSecond = await fetch(onInstance(ply.url, second));
    expect(fromSecond.headers.get('etag')).toBe(`"${ply.sha256}"`);
    expect(Buffer.from(await fromSecond.arrayBuffer()).equals(fromFirst)).toBe(true);
    expect(fromFirst.length).toBe(ply.bytes);
    const part = await fetch(onInstance(ply.url, second), { headers: { range: 'bytes=3-9' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(fromFirst.subarray(3, 10))).toBe(true);

    const db = first.app.database.connection;
    expect(await db.collection('assets.files').countDocuments()).toBe(4);
    expect(await db.collection('assets.chunks').countDocuments()).toBeGreaterThanOrEqual(4);
    expect(
      (await callRest(second.url, 'DELETE', `/chats/${String(job.chatId)}`, undefined, user.token)).status,
    ).toBe(200);
    expect(await db.collection('assets.files').countDocuments()).toBe(0);
    expect(await db.collection('assets.chunks').countDocuments()).toBe(0);
    expect((await fetch(onInstance(ply.url, second))).status).toBe(404);
  });
});
