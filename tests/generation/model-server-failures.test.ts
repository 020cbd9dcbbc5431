import { readdirSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';

import { useFaultySuite, type FaultySuite } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';

// Deadlines are far off here: under load, a healthy attempt must never run into one.
const suite = useFaultySuite({
  MODEL_SERVER_POLL_INTERVAL_MS: '50',
  JOB_MAX_ATTEMPTS: '3',
  JOB_RETRY_BASE_MS: '20',
  JOB_RETRY_MAX_MS: '100',
  JOB_POLL_INTERVAL_MS: '100',
});

/** Each deadline test has a server whose only short deadline is the one the fault makes fire. */
const silentServer = useFaultySuite({
  MODEL_SERVER_RESPONSE_TIMEOUT_MS: '300',
  MODEL_SERVER_POLL_INTERVAL_MS: '50',
  JOB_MAX_ATTEMPTS: '1',
});
const endlessTask = useFaultySuite({
  MODEL_SERVER_POLL_INTERVAL_MS: '50',
  JOB_MAX_ATTEMPTS: '1',
  JOB_TIMEOUT_MS: '3000',
});

async function runToTheEnd(prompt: string, on: FaultySuite = suite): Promise<TJob> {
  const created = await callRest(on.server.url, 'POST', '/jobs', { prompt }, on.user.token);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const updates = await followJob(clientFor(on.server, on.user), String(created.body.id));
  return updates.at(-1) as TJob;
}

async function lastAssistantMessage(chatId: string | null): Promise<{ content: string; type: string }> {
  const messages = await callRest(
    suite.server.url,
    'GET',
    `/messages?chatId=${String(chatId)}`,
    undefined,
    suite.user.token,
  );
  const list = messages.body as unknown as Array<{ role: string; content: string; type: string }>;
  return list.filter((message) => message.role === 'assistant').at(-1) as { content: string; type: string };
}

async function assetsOf(jobId: string): Promise<unknown[]> {
  return (await callRest(suite.server.url, 'GET', `/assets?jobId=${jobId}`, undefined, suite.user.token))
    .body as unknown as unknown[];
}

describe('jobs against a failing model server', () => {
  it('retries with backoff and succeeds when the server recovers', async () => {
    suite.faulty.faults.failSubmits = 2;
    const job = await runToTheEnd('a green torus');
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(3);
    expect(job.error).toBeNull();
    expect(await assetsOf(job.id)).toHaveLength(4);
  });

  it('fails with the last error after the attempt limit, and says so in the chat', async () => {
    suite.faulty.faults.failSubmits = 100;
    const job = await runToTheEnd('a yellow cone');
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(3);
    expect(job.error).toMatchObject({
      code: 'MODEL_SERVER_ERROR',
      message: 'The 3D model server ran into an error while making this model. Please try again later.',
    });
    const answer = await lastAssistantMessage(job.chatId);
    expect(answer).toMatchObject({ type: 'text', content: expect.stringContaining('ran into an error') });
    expect(await assetsOf(job.id)).toHaveLength(0);
  });

  it('fails on malformed JSON from the server', async () => {
    suite.faulty.faults.garbageStatus = true;
    const job = await runToTheEnd('a garbled cube');
    expect(job.error?.code).toBe('MODEL_SERVER_BAD_RESPONSE');
  });

  it('keeps no asset when a returned file is broken', async () => {
    suite.faulty.faults.truncateGlb = true;
    const job = await runToTheEnd('a broken pyramid');
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('OUTPUT_INVALID');
    expect(await assetsOf(job.id)).toHaveLength(0);
    // Every stored file belongs to an asset record: the half-stored outputs of the broken run are gone.
    const userDir = readdirSync(suite.server.config.assets.dir).find((entry) => entry === suite.user.id);
    const stored = userDir ? readdirSync(`${suite.server.config.assets.dir}/${userDir}`) : [];
    const recorded = (
      await callRest(suite.server.url, 'GET', '/assets?limit=200', undefined, suite.user.token)
    ).body as unknown as Array<{ id: string }>;
    expect(stored.sort()).toEqual(recorded.map((asset) => asset.id).sort());
  });
});

describe('model-server deadlines', () => {
  it('gives up on a server that stops answering (response deadline)', async () => {
    silentServer.faulty.faults.hangStatus = true;
    const job = await runToTheEnd('a silent sphere', silentServer);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('MODEL_SERVER_TIMEOUT');
  });

  it('stops a task that never finishes at the job deadline', async () => {
    endlessTask.faulty.faults.neverFinish = true;
    const job = await runToTheEnd('an endless cylinder', endlessTask);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('JOB_TIMEOUT');
    expect(
      endlessTask.faulty.requests.some(
        (request) => request.method === 'DELETE' && request.path.startsWith('/v1/generations/'),
      ),
    ).toBe(true);
  });
});
