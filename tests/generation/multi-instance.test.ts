import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';
import { startReferenceModelServer } from '@gen3d/server';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor, followJob } from '../support/generation.js';
import { useInstances } from '../support/instances.js';
import { runTypeScript } from '../support/process.js';
import { callRest } from '../support/rest.js';
import { GENEROUS_LIMITS, type TestServer } from '../support/server.js';

const instances = useInstances(GENEROUS_LIMITS);
const startInstance = (env: Record<string, string>, mongodbUri?: string) => instances.start(env, mongodbUri);

/**
 * Collects the user's finished jobs from live updates; `until` resolves once all the given ids finished.
 * The stream starts from "now" as a resume point, so jobs finishing before the stream is open still arrive.
 */
function watchFinishes(server: TestServer, user: SignedIn) {
  const finished = new Map<string, TJob>();
  let check = (): void => undefined;
  const subscription = clientFor(server, user).generation.watch.subscribe(
    { lastEventId: String(Date.now()) },
    {
      onData: ({ data }) => {
        if (!['succeeded', 'failed', 'canceled'].includes(data.status)) return;
        finished.set(data.id, data);
        check();
      },
    },
  );
  return {
    until(ids: Set<string>, timeoutMs = 120_000): Promise<TJob[]> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          subscription.unsubscribe();
          reject(
            new Error(
              `${[...ids].filter((id) => finished.has(id)).length} of ${ids.size} jobs finished in time`,
            ),
          );
        }, timeoutMs);
        check = () => {
          if (![...ids].every((id) => finished.has(id))) return;
          clearTimeout(timer);
          subscription.unsubscribe();
          resolve([...ids].map((id) => finished.get(id) as TJob));
        };
        check();
      });
    },
  };
}

describe('several instances on one database', () => {
  it('process 200 jobs from four users exactly once between them', { timeout: 180_000 }, async () => {
    const first = await startInstance({ WORKER_CONCURRENCY: '4' });
    const second = await startInstance({ WORKER_CONCURRENCY: '4' }, first.mongodbUri);
    const admin = await signInNewAdmin(first);
    const users = await Promise.all(
      ['u1', 'u2', 'u3', 'u4'].map((name) => signInNewUser(first, admin, `${name}@example.com`)),
    );
    const jobsOf = new Map(users.map((user) => [user, new Set<string>()]));
    // Watch before queueing (each user on one instance), so no update is missed.
    const watches = users.map((user, index) => watchFinishes(index % 2 === 0 ? first : second, user));
    const creations = Array.from({ length: 200 }, async (_, index) => {
      const user = users[index % users.length] as SignedIn;
      const instance = index % 2 === 0 ? first : second;
      const created = await callRest(
        instance.url,
        'POST',
        '/jobs',
        { prompt: `shape number ${index}: ${index % 3} cubes` },
        user.token,
      );
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      jobsOf.get(user)?.add(String(created.body.id));
    });
    await Promise.all(creations);
    const results = await Promise.all(
      users.map((user, index) => watches[index]?.until(jobsOf.get(user) as Set<string>) as Promise<TJob[]>),
    );

    const all = results.flat();
    expect(all).toHaveLength(200);
    for (const job of all) {
      expect(job.status).toBe('succeeded');
      expect(job.attempts).toBe(1);
      expect(job.outputs).toHaveLength(4);
    }
    const db = first.app.database.connection;
    const jobIds = all.map((job) => new Types.ObjectId(job.id));
    expect(await db.collection('assets').countDocuments({ jobId: { $in: jobIds } })).toBe(800);
    const answers = await db
      .collection('messages')
      .aggregate([
        { $match: { jobId: { $in: jobIds }, role: 'assistant' } },
        { $group: { _id: '$jobId', count: { $sum: 1 } } },
      ])
      .toArray();
    expect(answers).toHaveLength(200);
    expect(answers.every((answer) => answer.count === 1)).toBe(true);
    const workers = await db.collection('jobs').distinct('claimedBy', { _id: { $in: jobIds } });
    expect(workers.length).toBeGreaterThanOrEqual(2);
  });

  it(
    'finish a job whose process was killed mid-run once its lease expires',
    { timeout: 240_000 },
    async () => {
      const api = await startInstance({ WORKER_CONCURRENCY: '0' });
      const admin = await signInNewAdmin(api, 'root-kill@example.com');
      const user = await signInNewUser(api, admin, 'kill@example.com');
      const slow = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs: 30_000 });
      const doomed = runTypeScript('server/src/main.ts', {
        MONGODB_URI: api.mongodbUri,
        MODEL_SERVER_URL: slow.url,
        PORT: '0',
        JWT_SECRET: api.config.jwtSecret,
        DATA_DIR: mkdtempSync(join(tmpdir(), 'gen3d-doomed-')),
        WORKER_CONCURRENCY: '1',
        JOB_LEASE_MS: '1500',
        LOG_LEVEL: 'info',
      });
      try {
        await doomed.waitForLine((line) => line.includes('gen3d is listening'));
        const created = await callRest(
          api.url,
          'POST',
          '/jobs',
          { prompt: 'a sphere that outlives its worker' },
          user.token,
        );
        const jobId = String(created.body.id);
        const client = clientFor(api, user);
        await followJob(client, jobId, (job) => job.status === 'running' && job.progress > 0);
        doomed.child.kill('SIGKILL');
        await doomed.exited;
      } finally {
        doomed.child.kill('SIGKILL');
        await slow.close();
      }
      const jobId = String(
        ((await callRest(api.url, 'GET', '/jobs', undefined, user.token)).body as unknown as TJob[])[0]?.id,
      );
      const rescuer = await startInstance(
        { WORKER_CONCURRENCY: '1', JOB_POLL_INTERVAL_MS: '100' },
        api.mongodbUri,
      );
      const updates = await followJob(clientFor(rescuer, user), jobId, undefined, 120_000);
      const final = updates.at(-1) as TJob;
      expect(final.status).toBe('succeeded');
      expect(final.attempts).toBe(2);
      expect(final.outputs).toHaveLength(4);
    },
  );
});
