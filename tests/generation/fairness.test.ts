import { describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

// One worker, so the order in which jobs are claimed is the order in which they start.
const suite = useTestServer({
  env: {
    WORKER_CONCURRENCY: '1',
    JOBS_MAX_RUNNING_PER_USER: '1',
    AUTH_RATE_LIMIT_MAX: '1000',
    MODEL_SERVER_POLL_INTERVAL_MS: '20',
  },
  modelDurationMs: 150,
});

describe('fair claiming', () => {
  it("serves a light user's job before a heavy user's backlog", async () => {
    const admin = await signInNewAdmin(suite.server);
    const heavy = await signInNewUser(suite.server, admin, 'heavy@example.com');
    const light = await signInNewUser(suite.server, admin, 'light@example.com');
    const backlog: string[] = [];
    for (let index = 0; index < 5; index += 1)
      backlog.push(
        String(
          (await callRest(suite.server.url, 'POST', '/jobs', { prompt: `heavy cube ${index}` }, heavy.token))
            .body.id,
        ),
      );
    const lightJob = String(
      (await callRest(suite.server.url, 'POST', '/jobs', { prompt: 'light sphere' }, light.token)).body.id,
    );

    const lightDone = (await followJob(clientFor(suite.server, light), lightJob)).at(-1) as TJob;
    expect(lightDone.status).toBe('succeeded');
    const heavyJobs = await Promise.all(
      backlog.map(async (id) => (await followJob(clientFor(suite.server, heavy), id)).at(-1) as TJob),
    );
    const startedBeforeLight = heavyJobs.filter(
      (job) => new Date(job.startedAt as string) < new Date(lightDone.startedAt as string),
    );
    // Only the heavy job already running (or at most the one claimed as the light job arrived) went first.
    expect(startedBeforeLight.length).toBeLessThanOrEqual(2);
    expect(heavyJobs.every((job) => job.status === 'succeeded')).toBe(true);
  });
});
