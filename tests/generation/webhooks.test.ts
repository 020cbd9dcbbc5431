import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isGen3dError } from '@gen3d/client';
import type { TWebhookDelivery } from '@gen3d/shared';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor } from '../support/generation.js';
import { repositoryRoot, runNode } from '../support/process.js';
import { freePort } from '../support/redis.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';
import {
  allSucceeded,
  onceRecorded,
  startWebhookReceiver,
  type Arrival,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

const suite = useTestServer({
  mail: true,
  env: {
    AUTH_RATE_LIMIT_MAX: '1000',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    // The schedule (5 s … 10 h) shrunk a hundred thousand times: a delivery uses up its 8 attempts in about a second.
    WEBHOOK_RETRY_SCALE: '0.00001',
    WEBHOOK_TIMEOUT_MS: '1500',
    WEBHOOK_DISABLE_AFTER_FAILURES: '1',
    WEBHOOK_MAX_ENDPOINTS_PER_USER: '4',
  },
});

let receiver: WebhookReceiver;
let admin: SignedIn;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  admin = await signInNewAdmin(suite.server);
});

afterAll(async () => {
  await receiver.close();
});

let users = 0;
function newUser(): Promise<SignedIn> {
  users += 1;
  return signInNewUser(suite.server, admin, `hooks-${users}@example.com`);
}

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, user: SignedIn) =>
  callRest(suite.server.url, method, path, body, user.token);

/** Registers an endpoint at the receiver's `path`, which then verifies deliveries with its secret. */
async function register(user: SignedIn, path: string, events: string[]): Promise<string> {
  const created = await call('POST', '/webhooks', { url: `${receiver.url}${path}`, events }, user);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  receiver.setSecret(path, String(created.body.secret));
  return String(created.body.id);
}

async function createJob(user: SignedIn, prompt: string): Promise<string> {
  const job = await call('POST', '/jobs', { prompt }, user);
  expect(job.status, JSON.stringify(job.body)).toBe(201);
  return String(job.body.id);
}

const at = (path: string, jobId: string) => (arrival: Arrival) =>
  arrival.path === path && arrival.event.data.id === jobId;

async function deliveriesOf(user: SignedIn, endpointId: string): Promise<TWebhookDelivery[]> {
  const listed = await call('GET', `/webhooks/${endpointId}/deliveries`, undefined, user);
  expect(listed.status, JSON.stringify(listed.body)).toBe(200);
  return listed.body.items as TWebhookDelivery[];
}

/** The endpoint's deliveries once `recorded` holds for them (see onceRecorded). */
function recordedDeliveriesOf(
  user: SignedIn,
  endpointId: string,
  recorded: (deliveries: TWebhookDelivery[]) => boolean = allSucceeded,
): Promise<TWebhookDelivery[]> {
  return onceRecorded(() => deliveriesOf(user, endpointId), recorded);
}

describe('webhook endpoints', () => {
  it('shows the signing secret once, at creation, and stores it only encrypted', async () => {
    const user = await newUser();
    const created = await call(
      'POST',
      '/webhooks',
      { url: `${receiver.url}/once`, events: ['job.succeeded', 'job.failed'], description: 'mine' },
      user,
    );
    expect(created.status).toBe(201);
    const secret = String(created.body.secret);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.body).toMatchObject({ enabled: true, events: ['job.succeeded', 'job.failed'] });
    const id = String(created.body.id);
    const one = await call('GET', `/webhooks/${id}`, undefined, user);
    const all = await call('GET', '/webhooks', undefined, user);
    for (const answer of [one, all]) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.body)).not.toContain(secret.slice(10));
    }
    expect(one.body).not.toHaveProperty('secret');
    expect(one.body.secretPrefix).toBe(secret.slice(0, 10));
    const stored = await suite.server.app.database.connection
      .collection('webhookendpoints')
      .findOne({ url: `${receiver.url}/once` });
    expect(JSON.stringify(stored)).not.toContain(secret.slice(6));

    const rotated = await call('POST', `/webhooks/${id}/rotate-secret`, undefined, user);
    expect(rotated.status).toBe(200);
    expect(String(rotated.body.secret)).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);

    const changed = await call(
      'PATCH',
      `/webhooks/${id}`,
      { events: ['job.canceled'], enabled: false },
      user,
    );
    expect(changed.body).toMatchObject({ events: ['job.canceled'], enabled: false });
    expect((await call('DELETE', `/webhooks/${id}`, undefined, user)).body).toEqual({ ok: true });
    expect((await call('GET', `/webhooks/${id}`, undefined, user)).status).toBe(404);
  });

  it('refuses private addresses, other schemes and credentials in the URL with a 400 and a code', async () => {
    const user = await newUser();
    const refusals: Array<[string, string]> = [
      ['http://10.0.0.7/hook', 'WEBHOOK_URL_REFUSED'],
      ['http://localhost:8080/hook', 'WEBHOOK_URL_REFUSED'],
      ['http://[::1]:8080/hook', 'WEBHOOK_URL_REFUSED'],
      ['http://169.254.169.254/latest/meta-data', 'WEBHOOK_URL_REFUSED'],
      // Other spellings of private addresses: decimal and hex IPv4, IPv4-mapped IPv6, ULA, CGNAT, unspecified.
      ['http://167772161/hook', 'WEBHOOK_URL_REFUSED'],
      ['http://0xa.0.0.1/hook', 'WEBHOOK_URL_REFUSED'],
      ['http://[::ffff:10.0.0.1]/hook', 'WEBHOOK_URL_REFUSED'],
      ['http://[fd00::1]/hook', 'WEBHOOK_URL_REFUSED'],
      ['http://100.64.0.1/hook', 'WEBHOOK_URL_REFUSED'],
      ['http://0.0.0.0/hook', 'WEBHOOK_URL_REFUSED'],
      [`http://user:password@127.0.0.1:9/hook`, 'WEBHOOK_URL_REFUSED'],
      ['http://no-such-host.invalid/hook', 'WEBHOOK_URL_REFUSED'],
      ['ftp://example.com/hook', 'VALIDATION_FAILED'],
      ['file:///etc/passwd', 'VALIDATION_FAILED'],
      ['not a url', 'VALIDATION_FAILED'],
    ];
    for (const [url, code] of refusals) {
      const answer = await call('POST', '/webhooks', { url, events: ['job.succeeded'] }, user);
      expect([answer.status, answer.body.code], url).toEqual([400, code]);
      expect(String(answer.body.error)).not.toMatch(/stack|at \w+ \(/);
    }
    const refused = await call(
      'POST',
      '/webhooks',
      { url: 'http://10.0.0.7/hook', events: ['job.failed'] },
      user,
    );
    expect(String(refused.body.error)).toContain('WEBHOOK_ALLOWED_HOSTS');
    const noEvents = await call('POST', '/webhooks', { url: `${receiver.url}/x`, events: [] }, user);
    expect([noEvents.status, noEvents.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const unknown = await call(
      'POST',
      '/webhooks',
      { url: `${receiver.url}/x`, events: ['job.exploded'] },
      user,
    );
    expect([unknown.status, unknown.body.code]).toEqual([400, 'VALIDATION_FAILED']);

    const id = await register(user, '/policy', ['job.succeeded']);
    const moved = await call('PATCH', `/webhooks/${id}`, { url: 'http://192.168.1.1/hook' }, user);
    expect([moved.status, moved.body.code]).toEqual([400, 'WEBHOOK_URL_REFUSED']);
    expect((await call('GET', `/webhooks/${id}`, undefined, user)).body.url).toBe(`${receiver.url}/policy`);
  });

  it("answers another user's endpoint as not found, and caps endpoints per user", async () => {
    const owner = await newUser();
    const intruder = await newUser();
    const id = await register(owner, '/private', ['job.succeeded']);
    for (const [method, path, body] of [
      ['GET', `/webhooks/${id}`, undefined],
      ['PATCH', `/webhooks/${id}`, { enabled: false }],
      ['GET', `/webhooks/${id}/deliveries`, undefined],
      ['POST', `/webhooks/${id}/rotate-secret`, undefined],
      ['DELETE', `/webhooks/${id}`, undefined],
    ] as const) {
      const answer = await call(method, path, body, intruder);
      expect([answer.status, answer.body.code], `${method} ${path}`).toEqual([404, 'NOT_FOUND']);
    }
    expect((await call('GET', '/webhooks', undefined, intruder)).body).toEqual([]);
    expect((await call('GET', `/webhooks/${id}`, undefined, owner)).body.enabled).toBe(true);

    for (let more = 2; more <= 4; more += 1) await register(owner, `/private-${more}`, ['job.failed']);
    const fifth = await call(
      'POST',
      '/webhooks',
      { url: `${receiver.url}/fifth`, events: ['job.failed'] },
      owner,
    );
    expect([fifth.status, fifth.body.code]).toEqual([429, 'QUOTA_EXCEEDED']);
  });
});

describe('webhook endpoints over tRPC', () => {
  it('are managed with the typed client as over REST, the secret answered once', async () => {
    const user = await newUser();
    const client = clientFor(suite.server, user);
    const created = await client.webhooks.create.mutate({
      url: `${receiver.url}/typed`,
      events: ['job.succeeded', 'job.succeeded', 'job.failed'],
    });
    expect(created.secret).toMatch(/^whsec_/);
    expect(created.events).toEqual(['job.succeeded', 'job.failed']);
    const listed = await client.webhooks.list.query();
    expect(listed.map((endpoint) => endpoint.id)).toEqual([created.id]);
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(10));
    const updated = await client.webhooks.update.mutate({ id: created.id, description: 'typed' });
    expect(updated).toMatchObject({ description: 'typed', enabled: true });
    expect(await client.webhooks.deliveries.query({ id: created.id })).toMatchObject({
      items: [],
      pagination: { total: 0 },
    });
    const refused = await client.webhooks.update
      .mutate({ id: created.id, url: 'http://10.9.8.7/hook' })
      .catch((error: unknown) => error);
    expect(isGen3dError(refused) && refused.code).toBe('WEBHOOK_URL_REFUSED');
    await client.webhooks.delete.mutate({ id: created.id });
    expect(await client.webhooks.list.query()).toEqual([]);
  });
});

describe('webhook deliveries', () => {
  it("delivers a job's events in order, each once, signed so the standardwebhooks verifier accepts them", async () => {
    const user = await newUser();
    const endpointId = await register(user, '/all', ['job.queued', 'job.running', 'job.succeeded']);
    const jobId = await createJob(user, 'a signed cube');
    const arrivals = await receiver.waitFor(
      (seen) => seen.some((arrival) => at('/all', jobId)(arrival) && arrival.event.type === 'job.succeeded'),
      'job.succeeded at /all',
    );
    const ofJob = arrivals.filter(at('/all', jobId));
    expect(ofJob.map((arrival) => arrival.event.type)).toEqual([
      'job.queued',
      'job.running',
      'job.succeeded',
    ]);
    for (const arrival of ofJob) {
      expect(arrival.verified, arrival.verifyError).toBe(true);
      expect(arrival.id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(arrival.event.data.id).toBe(jobId);
    }
    expect(new Set(ofJob.map((arrival) => arrival.id)).size).toBe(3);
    const finished = ofJob[2]?.event;
    expect(finished?.data).toMatchObject({ status: 'succeeded', prompt: 'a signed cube', progress: 100 });
    expect(Date.parse(String(finished?.timestamp))).not.toBeNaN();
    // The job as the API shows it.
    const job = await call('GET', `/jobs/${jobId}`, undefined, user);
    expect(finished?.data).toMatchObject({
      id: job.body.id,
      status: job.body.status,
      version: job.body.version,
    });

    const deliveries = await recordedDeliveriesOf(user, endpointId);
    expect(deliveries.map((delivery) => [delivery.type, delivery.status, delivery.attempts.length])).toEqual([
      ['job.succeeded', 'succeeded', 1],
      ['job.running', 'succeeded', 1],
      ['job.queued', 'succeeded', 1],
    ]);
    expect(deliveries[0]?.attempts[0]).toMatchObject({ status: 204, error: null });
    expect(deliveries[0]?.id).toBe(ofJob[2]?.id);
  });

  it('retries an answer of 500 with the same webhook-id, logging every attempt', async () => {
    const user = await newUser();
    const endpointId = await register(user, '/flaky', ['job.succeeded']);
    receiver.plan('/flaky', ['error500', 'error500']);
    const jobId = await createJob(user, 'a flaky cube');
    const arrivals = (
      await receiver.waitFor(
        (seen) => seen.filter(at('/flaky', jobId)).some((arrival) => arrival.behaviour === 'ok'),
        'a delivery to /flaky accepted',
      )
    ).filter(at('/flaky', jobId));
    expect(arrivals.map((arrival) => arrival.behaviour)).toEqual(['error500', 'error500', 'ok']);
    expect(new Set(arrivals.map((arrival) => arrival.id)).size).toBe(1);
    expect(arrivals.every((arrival) => arrival.verified)).toBe(true);
    const [delivery] = await recordedDeliveriesOf(user, endpointId);
    expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 3 });
    expect(delivery?.attempts.map((attempt) => [attempt.status, attempt.error])).toEqual([
      [500, 'HTTP 500: only a 2xx answer counts as delivered'],
      [500, 'HTTP 500: only a 2xx answer counts as delivered'],
      [204, null],
    ]);
    for (const attempt of delivery?.attempts ?? []) expect(attempt.latencyMs).toBeGreaterThanOrEqual(0);

    // Redelivered on request: the same webhook-id and body once more.
    const again = await call(
      'POST',
      `/webhooks/${endpointId}/deliveries/${delivery?.id}/redeliver`,
      undefined,
      user,
    );
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ id: delivery?.id, status: 'pending', attemptCount: 0 });
    const redelivered = await receiver.waitFor(
      (seen) => seen.filter(at('/flaky', jobId)).length === 4,
      'the redelivery at /flaky',
    );
    const last = redelivered.filter(at('/flaky', jobId)).at(-1);
    expect(last?.id).toBe(delivery?.id);
    expect(last?.verified).toBe(true);
    const unknown = await call(
      'POST',
      `/webhooks/${endpointId}/deliveries/msg_${'0'.repeat(32)}/redeliver`,
      undefined,
      user,
    );
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('retries after a receiver that never answers and after a reset connection', async () => {
    const user = await newUser();
    const slowId = await register(user, '/slow', ['job.succeeded']);
    const resetId = await register(user, '/reset', ['job.succeeded']);
    receiver.plan('/slow', ['hang']);
    receiver.plan('/reset', ['reset']);
    const jobId = await createJob(user, 'a patient cube');
    await receiver.waitFor(
      (seen) =>
        ['/slow', '/reset'].every((path) =>
          seen.filter(at(path, jobId)).some((arrival) => arrival.behaviour === 'ok'),
        ),
      'accepted deliveries at /slow and /reset',
    );
    const [slow] = await recordedDeliveriesOf(user, slowId);
    expect(slow?.status).toBe('succeeded');
    expect(slow?.attempts.map((attempt) => [attempt.status, attempt.error])).toEqual([
      [null, 'No answer within 1500 ms'],
      [204, null],
    ]);
    expect(slow?.attempts[0]?.latencyMs).toBeGreaterThanOrEqual(1400);
    const [reset] = await recordedDeliveriesOf(user, resetId);
    expect(reset?.status).toBe('succeeded');
    expect(reset?.attempts.map((attempt) => [attempt.status, attempt.error])).toEqual([
      [null, 'The connection was closed before an answer'],
      [204, null],
    ]);
  });

  it('disables an endpoint whose delivery used up every attempt, emails its owner and audits it', async () => {
    const user = await newUser();
    const endpointId = await register(user, '/down', ['job.succeeded']);
    receiver.always('/down', 'error500');
    const jobId = await createJob(user, 'an unheard cube');
    const mail = await suite.smtp.waitForMail(user.email, /webhook endpoint was disabled/, 60_000);
    expect(mail.text).toContain(`${receiver.url}/down`);
    expect(receiver.arrivals.filter(at('/down', jobId))).toHaveLength(8);
    const endpoint = await call('GET', `/webhooks/${endpointId}`, undefined, user);
    expect(endpoint.body).toMatchObject({
      enabled: false,
      disabledReason: expect.stringContaining('failed'),
    });
    const [delivery] = await deliveriesOf(user, endpointId);
    expect(delivery).toMatchObject({ status: 'failed', attemptCount: 8, nextAttemptAt: null });
    expect(delivery?.attempts).toHaveLength(8);
    const audit = await callRest(
      suite.server.url,
      'GET',
      `/admin/audit?action=webhook.disabled&targetId=${endpointId}`,
      undefined,
      admin.token,
    );
    expect(audit.body.events).toMatchObject([{ action: 'webhook.disabled', target: { type: 'webhook' } }]);

    // Disabled: no redelivery until the owner enables it again; then the same delivery goes through.
    const refused = await call(
      'POST',
      `/webhooks/${endpointId}/deliveries/${delivery?.id}/redeliver`,
      undefined,
      user,
    );
    expect([refused.status, refused.body.code]).toEqual([409, 'WEBHOOK_ENDPOINT_DISABLED']);
    receiver.always('/down', 'ok');
    const enabled = await call('PATCH', `/webhooks/${endpointId}`, { enabled: true }, user);
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });
    const again = await call(
      'POST',
      `/webhooks/${endpointId}/deliveries/${delivery?.id}/redeliver`,
      undefined,
      user,
    );
    expect(again.status).toBe(200);
    await receiver.waitFor(
      (seen) => seen.filter(at('/down', jobId)).some((arrival) => arrival.behaviour === 'ok'),
      'the redelivery at /down accepted',
    );
    expect(suite.smtp.countMail(user.email, /webhook endpoint was disabled/)).toBe(1);
  });

  it('deletes endpoints with the account', async () => {
    const user = await newUser();
    await register(user, '/gone', ['job.succeeded']);
    const deleted = await callRest(
      suite.server.url,
      'DELETE',
      `/admin/users/${user.id}?confirmEmail=${encodeURIComponent(user.email)}`,
      undefined,
      admin.token,
    );
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body.deleted).toMatchObject({ webhookEndpoints: 1 });
    const left = await suite.server.app.database.connection
      .collection('webhookendpoints')
      .countDocuments({ url: `${receiver.url}/gone` });
    expect(left).toBe(0);
  });
});

describe('the receiver example of docs/api.md', () => {
  it('verifies real deliveries with standardwebhooks and accepts them', async () => {
    const page = readFileSync(join(repositoryRoot, 'docs/api.md'), 'utf8');
    const section = page.slice(page.indexOf('## Webhooks'));
    const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toContain("from 'standardwebhooks'");
    const user = await newUser();
    const port = await freePort();
    const created = await call(
      'POST',
      '/webhooks',
      { url: `http://127.0.0.1:${port}/`, events: ['job.running', 'job.succeeded'] },
      user,
    );
    expect(created.status).toBe(201);
    const endpointId = String(created.body.id);
    // Run from the repository root, where the example's one package, standardwebhooks, is installed.
    const running = runNode(['--input-type=module', '--eval', example as string], {
      cwd: repositoryRoot,
      env: { GEN3D_WEBHOOK_SECRET: String(created.body.secret), PORT: String(port) },
    });
    try {
      await running.waitForLine((line) => line === 'listening', 30_000);
      const jobId = await createJob(user, 'a documented cube');
      await running.waitForLine((line) => line === `job.succeeded ${jobId} succeeded`);
      expect(running.lines).toContain(`job.running ${jobId} running`);
      const deliveries = await recordedDeliveriesOf(user, endpointId);
      expect(
        deliveries.map((delivery) => [delivery.type, delivery.status, delivery.attempts[0]?.status]),
      ).toEqual([
        ['job.succeeded', 'succeeded', 204],
        ['job.running', 'succeeded', 204],
      ]);
    } finally {
      running.child.kill();
      await running.exited;
    }
  });
});
