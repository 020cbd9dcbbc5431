import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { databaseUri, uniqueDatabaseName } from '../support/database.js';
import {
  APP_NAME,
  databaseNameOf,
  startFaultDatabase,
  withAppName,
  type FaultDatabase,
} from '../support/fail-points.js';
import { callRest } from '../support/rest.js';
import { GENEROUS_LIMITS, startTestServer, type TestServer } from '../support/server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/*
 * The lookups of endpoints that webhook events need are grouped: events asked for while a lookup is
 * under way wait for the next, which serves all of them, several accounts at once. A fail point holds the
 * first lookup back, so the events of the other accounts' jobs queue up behind it and are looked up
 * together; each account must still get its own jobs' events only.
 */

let faults: FaultDatabase;
let server: TestServer;
let receiver: WebhookReceiver;
let owners: SignedIn[];

beforeAll(async () => {
  faults = await startFaultDatabase();
  if (!faults.failCommand) return;
  receiver = await startWebhookReceiver();
  server = await startTestServer(faults.database, {
    env: { ...GENEROUS_LIMITS, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
    mongodbUri: withAppName(databaseUri(faults.database, uniqueDatabaseName('webhook_lookups'))),
  });
  const admin = await signInNewAdmin(server);
  owners = await Promise.all(
    [0, 1, 2].map((index) => signInNewUser(server, admin, `grouped-${index}@example.com`)),
  );
  for (const [index, owner] of owners.entries()) {
    const path = `/own-${index}`;
    const created = await callRest(
      server.url,
      'POST',
      '/webhooks',
      { url: `${receiver.url}${path}`, events: ['job.queued'] },
      owner.token,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    receiver.setSecret(path, String(created.body.secret));
  }
});

afterAll(async () => {
  await faults.stop(async () => {
    await server?.close();
    await receiver?.close();
  });
});

async function createJob(owner: SignedIn, prompt: string): Promise<string> {
  const created = await callRest(server.url, 'POST', '/jobs', { prompt }, owner.token);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return String(created.body.id);
}

describe('webhook endpoint lookups', () => {
  it("serve the events of several accounts at once, each account's events going to its own endpoints", async (context) => {
    const { failCommand } = faults;
    if (!failCommand) return context.skip(faults.skipReason);
    const entered = await failCommand.set(
      { times: 1 },
      {
        failCommands: ['find'],
        namespace: `${databaseNameOf(server.mongodbUri)}.webhookendpoints`,
        appName: APP_NAME,
        blockConnection: true,
        blockTimeMS: 1500,
      },
    );
    const first = await createJob(owners[0] as SignedIn, 'held back');
    // The lookup for the first job's event is under way (held); the next jobs' events wait for it.
    await failCommand.waitForEntered(entered + 1);
    const rest = await Promise.all(owners.map((owner, index) => createJob(owner, `queued behind ${index}`)));
    const jobsOf = owners.map((_, index) => (index === 0 ? [first, rest[0]] : [rest[index]]));
    const arrivals = await receiver.waitFor(
      (seen) =>
        jobsOf.every((jobIds, index) =>
          jobIds.every((jobId) =>
            seen.some((arrival) => arrival.path === `/own-${index}` && arrival.event.data.id === jobId),
          ),
        ),
      "every job's job.queued at its owner's endpoint",
    );
    jobsOf.forEach((jobIds, index) => {
      const atOwn = arrivals.filter((arrival) => arrival.path === `/own-${index}`);
      expect(atOwn.map((arrival) => arrival.event.data.id).sort()).toEqual([...jobIds].sort());
      for (const arrival of atOwn) expect(arrival.verified, arrival.verifyError).toBe(true);
    });
  });
});
