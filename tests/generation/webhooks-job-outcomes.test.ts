import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useFaultySuite } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const suite = useFaultySuite({
  JOB_MAX_ATTEMPTS: '2',
  JOB_RETRY_BASE_MS: '50',
  JOB_RETRY_MAX_MS: '100',
  MODEL_SERVER_POLL_INTERVAL_MS: '50',
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_RETRY_SCALE: '0.00001',
});

let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  const created = await callRest(
    suite.server.url,
    'POST',
    '/webhooks',
    {
      url: `${receiver.url}/outcomes`,
      events: ['job.queued', 'job.running', 'job.succeeded', 'job.failed', 'job.canceled'],
    },
    suite.user.token,
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  receiver.setSecret('/outcomes', String(created.body.secret));
});

afterAll(async () => {
  await receiver.close();
});

/** The event types delivered for the job, in arrival order, once its `last` event arrived. */
async function eventsOf(jobId: string, last: string): Promise<string[]> {
  const arrivals = await receiver.waitFor(
    (seen) => seen.some((arrival) => arrival.event.data.id === jobId && arrival.event.type === last),
    `${last} for ${jobId}`,
  );
  const ofJob = arrivals.filter((arrival) => arrival.event.data.id === jobId);
  expect(ofJob.every((arrival) => arrival.verified)).toBe(true);
  expect(new Set(ofJob.map((arrival) => arrival.id)).size).toBe(ofJob.length);
  return ofJob.map((arrival) => arrival.event.type);
}

async function createJob(prompt: string): Promise<string> {
  const job = await callRest(suite.server.url, 'POST', '/jobs', { prompt }, suite.user.token);
  expect(job.status, JSON.stringify(job.body)).toBe(201);
  return String(job.body.id);
}

describe('webhook events of every way a job goes', () => {
  it('announces a retried attempt as queued and running again, then succeeded', async () => {
    suite.faulty.faults.failSubmits = 1;
    const jobId = await createJob('a cube that succeeds the second time');
    expect(await eventsOf(jobId, 'job.succeeded')).toEqual([
      'job.queued',
      'job.running',
      'job.queued',
      'job.running',
      'job.succeeded',
    ]);
  });

  it('announces a job that fails every attempt as failed', async () => {
    suite.faulty.faults.failSubmits = 100;
    const jobId = await createJob('a cube that never comes');
    expect(await eventsOf(jobId, 'job.failed')).toEqual([
      'job.queued',
      'job.running',
      'job.queued',
      'job.running',
      'job.failed',
    ]);
    const last = receiver.arrivals.filter((arrival) => arrival.event.data.id === jobId).at(-1);
    expect(last?.event.data).toMatchObject({ status: 'failed', error: { code: expect.any(String) } });
  });

  it('announces a running job canceled on request as canceled', async () => {
    suite.faulty.faults.neverFinish = true;
    const jobId = await createJob('a cube stopped halfway');
    await followJob(clientFor(suite.server, suite.user), jobId, (job) => job.status === 'running');
    const canceled = await callRest(
      suite.server.url,
      'POST',
      `/jobs/${jobId}/cancel`,
      undefined,
      suite.user.token,
    );
    expect(canceled.status).toBe(200);
    expect(await eventsOf(jobId, 'job.canceled')).toEqual(['job.queued', 'job.running', 'job.canceled']);
  });
});
