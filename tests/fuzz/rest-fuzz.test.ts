import { describe, expect, it } from 'vitest';

import { generateModelFiles } from '@gen3d/server';

import { logIn, signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';
import { DocumentValidator, operationsOf, type OpenApiDocument } from './openapi-operations.js';
import { planRequests, type FuzzIdentity, type ResourceKind } from './rest-fuzzer.js';
import { runRequests } from './run-requests.js';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 13);
const PASSWORD = 'fuzzing password 1';

// Limits high enough that the run explores input handling rather than the limiter (429 stays declared);
// no workers, so jobs stay queued and the blocking generate times out quickly.
const suite = useTestServer({
  env: {
    RATE_LIMIT_MAX: '10000000',
    AUTH_RATE_LIMIT_MAX: '10000000',
    GENERATION_RATE_LIMIT_MAX: '10000000',
    JOBS_DAILY_QUOTA: '10000000',
    WORKER_CONCURRENCY: '0',
    GENERATE_TIMEOUT_MS: '200',
  },
});

/** A chat, a queued job, its prompt message and a registered file of the account, by kind. */
async function recordsOf(
  account: SignedIn,
  admin: SignedIn,
  glb: string,
): Promise<Record<ResourceKind, string>> {
  const url = suite.server.url;
  const chat = await callRest(url, 'POST', '/chats', { title: `records of ${account.email}` }, account.token);
  const job = await callRest(
    url,
    'POST',
    '/jobs',
    { prompt: 'a fuzzed fox', chatId: chat.body.id },
    account.token,
  );
  const messages = (
    await callRest(url, 'GET', `/messages?chatId=${String(chat.body.id)}`, undefined, account.token)
  ).body as unknown as Array<{ id: string }>;
  const asset = await callRest(
    url,
    'POST',
    '/assets',
    { format: 'glb', data: glb, userId: account.id, chatId: chat.body.id },
    admin.token,
  );
  expect([chat.status, job.status, asset.status], JSON.stringify(asset.body)).toEqual([201, 201, 201]);
  return {
    user: account.id,
    chat: String(chat.body.id),
    job: String(job.body.id),
    message: messages[0]?.id as string,
    asset: String(asset.body.id),
  };
}

describe('REST fuzzing over every operation of /openapi.json', () => {
  it(`answers ${REQUESTS} generated requests (seed ${SEED}) with declared statuses and bodies, never 5xx, never 2xx for invalid input`, async () => {
    const url = suite.server.url;
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as OpenApiDocument;
    const operations = operationsOf(document);
    const validator = new DocumentValidator(document);

    const admin = await signInNewAdmin(suite.server, 'fuzz-admin@example.com', PASSWORD);
    const user = await signInNewUser(suite.server, admin, 'fuzz-user@example.com', PASSWORD);
    const victim = await signInNewUser(suite.server, admin, 'fuzz-victim@example.com', PASSWORD);
    const model = await generateModelFiles('a fuzzed cube', 1, 'draft');
    const glb = Buffer.from(model.files.find((file) => file.name === 'mesh.glb')?.bytes ?? []).toString(
      'base64',
    );
    const [adminIds, userIds, victimIds] = [
      await recordsOf(admin, admin, glb),
      await recordsOf(user, admin, glb),
      await recordsOf(victim, admin, glb),
    ];

    const sessions = new Map<string, SignedIn>([
      ['admin', admin],
      ['user', user],
    ]);
    const identities: FuzzIdentity[] = [
      { name: 'anonymous', authorization: undefined, ids: { own: userIds, other: victimIds } },
      {
        name: 'garbage-token',
        authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        ids: { own: userIds, other: victimIds },
      },
      { name: 'user', authorization: `Bearer ${user.token}`, ids: { own: userIds, other: victimIds } },
      { name: 'admin', authorization: `Bearer ${admin.token}`, ids: { own: adminIds, other: victimIds } },
    ];
    // A fuzzed logout (or a session limit) ends a session: the identity signs in again between rounds.
    const renewSessions = async (): Promise<void> => {
      for (const identity of identities) {
        const session = sessions.get(identity.name);
        if (!session || (await callRest(url, 'GET', '/auth/me', undefined, session.token)).status === 200)
          continue;
        const renewed = await logIn(suite.server, session.email, PASSWORD);
        sessions.set(identity.name, renewed);
        identity.authorization = `Bearer ${renewed.token}`;
      }
    };

    const requests = planRequests(document, operations, identities, validator, REQUESTS, SEED);
    const report = await runRequests(url, requests, validator, {
      concurrency: 8,
      healthEvery: 250,
      beforeRound: renewSessions,
    });

    const statuses = [...report.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    console.log(
      `REST fuzz: ${report.requests} requests over ${operations.length} operations (seed ${SEED}); statuses ${statuses}; findings ${report.findings.length}`,
    );
    // One example of each kind of finding: the problem without its varying details, per operation.
    const kinds = new Map<string, string>();
    for (const finding of report.findings)
      kinds.set(
        `${finding.request.split(' ').slice(2, 4).join(' ')} ${finding.problem.replace(/[:(].*/, '')}`,
        `${finding.problem}\n    ${finding.request}`,
      );
    for (const example of [...kinds.values()].slice(0, 40)) console.log(`  ${example}`);
    expect(report.findings).toEqual([]);
    expect(report.requests).toBe(REQUESTS);
  }, 900_000);
});
