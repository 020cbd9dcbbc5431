import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TAsset, TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { sha256 } from '../support/contracts/adapter-suite.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor, followJob } from '../support/generation.js';
import { redisServerAvailable, startTestRedis, type TestRedis } from '../support/redis.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

// CI sets REQUIRE_REDIS_TESTS so a missing redis-server fails there instead of skipping the shared limit.
const redisAvailable = redisServerAvailable() || process.env.REQUIRE_REDIS_TESTS === '1';
if (!redisAvailable)
  console.warn(
    'skipping the shared generation limit check: redis-server is not installed (apt-get install redis-server)',
  );

const GENERATION_LIMIT = 5;

let database: TestDatabase;
let redis: TestRedis | undefined;
let instances: [TestServer, TestServer];
let admin: SignedIn;

beforeAll(async () => {
  database = await startTestDatabase();
  redis = redisAvailable ? await startTestRedis() : undefined;
  const env = {
    ASSET_STORAGE: 'gridfs',
    ...(redis ? { REDIS_URL: redis.url } : {}),
    // Each test speaks from its own client address (X-Forwarded-For), so per-IP limits stay apart.
    TRUST_PROXY: '127.0.0.1',
    WORKER_CONCURRENCY: '2',
    JOBS_MAX_RUNNING_PER_USER: '4',
    JOB_POLL_INTERVAL_MS: '100',
    AUTH_RATE_LIMIT_MAX: '1000',
    GENERATION_RATE_LIMIT_MAX: String(GENERATION_LIMIT),
    GENERATION_RATE_LIMIT_WINDOW_MS: '600000',
  };
  const first = await startTestServer(database, { env, modelDurationMs: 400 });
  const second = await startTestServer(database, { env, modelDurationMs: 400, mongodbUri: first.mongodbUri });
  instances = [first, second];
  admin = await signInNewAdmin(first);
});

afterAll(async () => {
  for (const instance of [...(instances ?? [])].reverse()) await instance.close();
  await database?.stop();
  await redis?.stop();
});

async function createJob(
  server: TestServer,
  user: SignedIn,
  prompt: string,
  clientIp: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/api/jobs`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${user.token}`,
      'x-forwarded-for': clientIp,
    },
    body: JSON.stringify({ prompt }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The same signed path on another instance: the signature covers the asset, file and expiry, not the host. */
function onInstance(url: string, server: TestServer): string {
  const parsed = new URL(url);
  return `${server.url}${parsed.pathname}${parsed.search}`;
}

describe('two instances on one database with GridFS storage', () => {
  it('process jobs created on either, stream progress to subscribers on the other, and serve every file from both', async () => {
    const users = [
      await signInNewUser(instances[0], admin, 'north@example.com'),
      await signInNewUser(instances[1], admin, 'south@example.com'),
    ];
    const followed: Array<Promise<TJob[]>> = [];
    for (let index = 0; index < 8; index += 1) {
      const user = users[index % 2] as SignedIn;
      const creator = instances[index % 2] as TestServer;
      const watcher = instances[(index + 1) % 2] as TestServer;
      const created = await createJob(creator, user, `a shape number ${index}`, `10.0.1.${index % 2}`);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      followed.push(followJob(clientFor(watcher, user), String(created.body.id)));
    }
    const streams = await Promise.all(followed);
    for (const updates of streams) {
      expect(updates.at(-1)?.status).toBe('succeeded');
      expect(
        updates.some((update) => update.status === 'running' && update.progress > 0 && update.progress < 100),
        JSON.stringify(updates.map((update) => [update.status, update.progress])),
      ).toBe(true);
    }

    const jobs = instances[0].app.database.connection.collection('jobs');
    const ids = streams.map((updates) => updates.at(-1)?.id);
    const workers = await jobs.distinct('claimedBy', { prompt: { $regex: '^a shape number' } });
    expect(ids).toHaveLength(8);
    expect(workers, 'both instances ran some of the jobs').toHaveLength(2);

    for (const [index, updates] of streams.entries()) {
      const job = updates.at(-1) as TJob;
      const owner = users[index % 2] as SignedIn;
      const assets = (
        await callRest(
          instances[index % 2]?.url as string,
          'GET',
          `/assets?jobId=${job.id}`,
          undefined,
          owner.token,
        )
      ).body as unknown as TAsset[];
      expect(assets.map((asset) => asset.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
      for (const asset of assets) {
        for (const instance of instances) {
          const file = await fetch(onInstance(asset.url, instance));
          expect(file.status).toBe(200);
          expect(sha256(Buffer.from(await file.arrayBuffer()))).toBe(asset.sha256);
        }
      }
    }
    for (const instance of instances)
      expect(await instance.app.database.connection.collection('assets.files').countDocuments()).toBe(32);
  });

  it.runIf(redisAvailable)('share the generation rate limit through REDIS_URL', async () => {
    const user = await signInNewUser(instances[0], admin, 'eager@example.com');
    const statuses: number[] = [];
    const bodies: Array<Record<string, unknown>> = [];
    for (let index = 0; index <= GENERATION_LIMIT; index += 1) {
      const answer = await createJob(
        instances[index % 2] as TestServer,
        user,
        `an eager cube ${index}`,
        '10.0.2.1',
      );
      statuses.push(answer.status);
      bodies.push(answer.body);
    }
    expect(statuses).toEqual([...Array.from({ length: GENERATION_LIMIT }, () => 201), 429]);
    expect(bodies.at(-1)).toMatchObject({ code: 'RATE_LIMITED' });
  });
});
