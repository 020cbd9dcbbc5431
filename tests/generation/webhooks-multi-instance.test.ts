import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TWebhookDelivery } from '@gen3d/shared';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor } from '../support/generation.js';
import { useInstances } from '../support/instances.js';
import { runTypeScript } from '../support/process.js';
import { callRest } from '../support/rest.js';
import { GENEROUS_LIMITS, type TestServer } from '../support/server.js';
import { startTestSmtpServer } from '../support/smtp.js';
import {
  allSucceeded,
  onceRecorded,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

let receiver: WebhookReceiver;

const settings = {
  ...GENEROUS_LIMITS,
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_RETRY_SCALE: '0.00001',
  WEBHOOK_POLL_INTERVAL_MS: '100',
};

// Registered before the instances, so the receiver closes after them.
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver.close();
});

const instances = useInstances(settings);
const startInstance = (env: Record<string, string>, mongodbUri?: string) => instances.start(env, mongodbUri);

async function register(server: TestServer, user: SignedIn, path: string, events: string[]) {
  const created = await callRest(
    server.url,
    'POST',
    '/webhooks',
    { url: `${receiver.url}${path}`, events },
    user.token,
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  receiver.setSecret(path, String(created.body.secret));
  return String(created.body.id);
}

describe('webhook deliveries from several instances on one database', () => {
  it(
    'deliver each event of every job exactly once per endpoint, in order',
    { timeout: 180_000 },
    async () => {
      const first = await startInstance({ WORKER_CONCURRENCY: '3', WEBHOOK_CONCURRENCY: '3' });
      const second = await startInstance(
        { WORKER_CONCURRENCY: '3', WEBHOOK_CONCURRENCY: '3' },
        first.mongodbUri,
      );
      const admin = await signInNewAdmin(first);
      const users = await Promise.all(
        ['w1', 'w2'].map((name) => signInNewUser(first, admin, `${name}@example.com`)),
      );
      const events = ['job.queued', 'job.running', 'job.succeeded'];
      for (const [index, user] of users.entries()) await register(first, user, `/multi-${index}`, events);
      // Every instance watches every user's jobs, so each instance sees (and records) every change.
      const watches = users.flatMap((user) =>
        [first, second].map((server) =>
          clientFor(server, user).generation.watch.subscribe({}, { onData: () => undefined }),
        ),
      );
      try {
        const jobs = new Map<string, number>();
        await Promise.all(
          Array.from({ length: 40 }, async (_, index) => {
            const user = users[index % 2] as SignedIn;
            const created = await callRest(
              (index % 4 < 2 ? first : second).url,
              'POST',
              '/jobs',
              { prompt: `hooked shape ${index}` },
              user.token,
            );
            expect(created.status, JSON.stringify(created.body)).toBe(201);
            jobs.set(String(created.body.id), index % 2);
          }),
        );
        const arrivals = await receiver.waitFor(
          (seen) =>
            [...jobs.keys()].every((jobId) =>
              seen.some(
                (arrival) => arrival.event.data.id === jobId && arrival.event.type === 'job.succeeded',
              ),
            ),
          'job.succeeded for all 40 jobs',
          150_000,
        );
        for (const [jobId, owner] of jobs) {
          const ofJob = arrivals.filter((arrival) => arrival.event.data.id === jobId);
          expect(
            ofJob.map((arrival) => arrival.event.type),
            jobId,
          ).toEqual(events);
          expect(ofJob.every((arrival) => arrival.path === `/multi-${owner}` && arrival.verified)).toBe(true);
          expect(new Set(ofJob.map((arrival) => arrival.id)).size).toBe(3);
        }
        expect(arrivals.filter((arrival) => arrival.path.startsWith('/multi-'))).toHaveLength(120);
        const stored = await first.app.database.connection.collection('webhookdeliveries').countDocuments({});
        expect(stored).toBe(120);
      } finally {
        for (const watch of watches) watch.unsubscribe();
      }
    },
  );

  it(
    "sends a delivery again from another instance once a killed instance's lease expires",
    { timeout: 120_000 },
    async () => {
      const api = await startInstance({ WORKER_CONCURRENCY: '0', WEBHOOK_CONCURRENCY: '0' });
      const admin = await signInNewAdmin(api, 'root-crash@example.com');
      const user = await signInNewUser(api, admin, 'crash@example.com');
      const endpointId = await register(api, user, '/crash', ['job.succeeded']);
      receiver.plan('/crash', ['hang']);
      const doomed = runTypeScript('server/src/main.ts', {
        MONGODB_URI: api.mongodbUri,
        MODEL_SERVER_URL: instances.modelServer.url,
        PORT: '0',
        JWT_SECRET: api.config.jwtSecret,
        DATA_DIR: mkdtempSync(join(tmpdir(), 'gen3d-doomed-hooks-')),
        WORKER_CONCURRENCY: '1',
        ...settings,
        WEBHOOK_CONCURRENCY: '1',
        // The lease is twice the attempt deadline and 5 s more: 9 s.
        WEBHOOK_TIMEOUT_MS: '2000',
        LOG_LEVEL: 'info',
      });
      let jobId = '';
      try {
        await doomed.waitForLine((line) => line.includes('gen3d is listening'));
        const created = await callRest(
          api.url,
          'POST',
          '/jobs',
          { prompt: 'a cube heard twice' },
          user.token,
        );
        jobId = String(created.body.id);
        // The doomed instance holds the delivery while the receiver keeps it waiting; then it dies.
        await receiver.waitFor(
          (seen) => seen.some((arrival) => arrival.path === '/crash' && arrival.event.data.id === jobId),
          'the first attempt at /crash',
        );
        doomed.child.kill('SIGKILL');
        await doomed.exited;
      } finally {
        doomed.child.kill('SIGKILL');
      }
      await startInstance({ WORKER_CONCURRENCY: '0', WEBHOOK_CONCURRENCY: '1' }, api.mongodbUri);
      const arrivals = (
        await receiver.waitFor(
          (seen) => seen.filter((arrival) => arrival.path === '/crash').length === 2,
          'the second attempt at /crash',
          60_000,
        )
      ).filter((arrival) => arrival.path === '/crash');
      expect(arrivals.map((arrival) => [arrival.behaviour, arrival.event.data.id, arrival.verified])).toEqual(
        [
          ['hang', jobId, true],
          ['ok', jobId, true],
        ],
      );
      expect(arrivals[1]?.id).toBe(arrivals[0]?.id);
      const [delivery] = await onceRecorded(
        async () =>
          (await callRest(api.url, 'GET', `/webhooks/${endpointId}/deliveries`, undefined, user.token)).body
            .items as TWebhookDelivery[],
        allSucceeded,
      );
      // The killed instance never logged its attempt; the rescuer's is the one on record.
      expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1 });
      expect(delivery?.attempts.map((attempt) => attempt.status)).toEqual([204]);
    },
  );

  it(
    'checks the address policy again when sending, on the instance that sends',
    { timeout: 120_000 },
    async () => {
      const smtp = await startTestSmtpServer();
      try {
        // Registered where localhost is allowed; sent from an instance where it is not (its own database).
        const api = await startInstance({
          WEBHOOK_ALLOWED_HOSTS: '127.0.0.1,localhost',
          WEBHOOK_CONCURRENCY: '0',
          SMTP_URL: smtp.url,
        });
        await startInstance(
          { WORKER_CONCURRENCY: '0', WEBHOOK_DISABLE_AFTER_FAILURES: '1', SMTP_URL: smtp.url },
          api.mongodbUri,
        );
        const admin = await signInNewAdmin(api, 'root-policy@example.com');
        const user = await signInNewUser(api, admin, 'policy@example.com');
        const port = new URL(receiver.url).port;
        const created = await callRest(
          api.url,
          'POST',
          '/webhooks',
          { url: `http://localhost:${port}/renamed`, events: ['job.succeeded'] },
          user.token,
        );
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        const endpointId = String(created.body.id);
        const job = await callRest(api.url, 'POST', '/jobs', { prompt: 'a cube for nobody' }, user.token);
        expect(job.status).toBe(201);
        await smtp.waitForMail('policy@example.com', /webhook endpoint was disabled/, 60_000);
        expect(receiver.arrivals.filter((arrival) => arrival.path === '/renamed')).toEqual([]);
        const listed = await callRest(
          api.url,
          'GET',
          `/webhooks/${endpointId}/deliveries`,
          undefined,
          user.token,
        );
        const [delivery] = listed.body.items as TWebhookDelivery[];
        expect(delivery).toMatchObject({ status: 'failed', attemptCount: 8 });
        for (const attempt of delivery?.attempts ?? []) {
          expect(attempt.status).toBeNull();
          expect(attempt.error).toMatch(/^Refused: localhost is a loopback address/);
        }
      } finally {
        await smtp.close();
      }
    },
  );
});
