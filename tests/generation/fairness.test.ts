import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor, followJob } from '../support/generation.js';
import { startHeldModelServer, type HeldModelServer } from '../support/held-model-server.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('fair claiming', () => {
  let database: TestDatabase;
  let held: HeldModelServer;
  let server: TestServer;

  // One worker, so the order in which jobs are claimed is the order in which they start; the model server
  // holds each generation until the test lets it finish, so the queue is built before anything ends.
  beforeAll(async () => {
    database = await startTestDatabase();
    held = await startHeldModelServer();
    server = await startTestServer(database, {
      env: {
        MODEL_SERVER_URL: held.url,
        WORKER_CONCURRENCY: '1',
        JOBS_MAX_RUNNING_PER_USER: '1',
        AUTH_RATE_LIMIT_MAX: '1000',
        MODEL_SERVER_POLL_INTERVAL_MS: '20',
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    await held?.close();
    await database?.stop();
  });

  it("serves a light user's job before a heavy user's backlog", async () => {
    const admin = await signInNewAdmin(server);
    const heavy = await signInNewUser(server, admin, 'heavy@example.com');
    const light = await signInNewUser(server, admin, 'light@example.com');
    const backlog: string[] = [];
    for (let index = 0; index < 5; index += 1)
      backlog.push(
        String(
          (await callRest(server.url, 'POST', '/jobs', { prompt: `heavy cube ${index}` }, heavy.token)).body
            .id,
        ),
      );
    // The first heavy job runs (held); the rest of the backlog waits.
    expect(await held.nextStarted(0)).toBe('heavy cube 0');
    const lightJob = String(
      (await callRest(server.url, 'POST', '/jobs', { prompt: 'light sphere' }, light.token)).body.id,
    );
    for (const prompt of ['light sphere', ...[0, 1, 2, 3, 4].map((index) => `heavy cube ${index}`)])
      held.release(prompt);

    const lightDone = (await followJob(clientFor(server, light), lightJob)).at(-1) as TJob;
    expect(lightDone.status).toBe('succeeded');
    const heavyJobs = await Promise.all(
      backlog.map(async (id) => (await followJob(clientFor(server, heavy), id)).at(-1) as TJob),
    );
    // The light job was claimed as soon as the running heavy job ended, before the rest of the backlog.
    expect(held.started.slice(0, 2)).toEqual(['heavy cube 0', 'light sphere']);
    const startedBeforeLight = heavyJobs.filter(
      (job) => new Date(job.startedAt as string) < new Date(lightDone.startedAt as string),
    );
    expect(startedBeforeLight).toHaveLength(1);
    expect(heavyJobs.every((job) => job.status === 'succeeded')).toBe(true);
  });
});
