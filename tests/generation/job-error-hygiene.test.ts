import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Gen3dError, type TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import {
  databaseUri,
  startTestDatabase,
  uniqueDatabaseName,
  type TestDatabase,
} from '../support/database.js';
import { startFaultyModelServer, type FaultyModelServer } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { captureLog, type CapturedLog, type LogEntry } from '../support/logs.js';
import { freePort } from '../support/redis.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MARKER = 'UPSTREAM-MARKER-5f1c';
const FAST = {
  AUTH_RATE_LIMIT_MAX: '1000',
  GENERATION_RATE_LIMIT_MAX: '1000',
  JOB_MAX_ATTEMPTS: '1',
  JOB_POLL_INTERVAL_MS: '100',
  MODEL_SERVER_POLL_INTERVAL_MS: '50',
  MODEL_SERVER_CONNECT_TIMEOUT_MS: '1000',
};

interface Deployment {
  server: TestServer;
  log: CapturedLog;
  user: SignedIn;
  /** The model server's host:port as the server calls it. */
  modelHost: string;
}

let database: TestDatabase;
let faulty: FaultyModelServer;
let failing: Deployment;
let unreachable: Deployment;

async function deploy(modelServerUrl: string): Promise<Deployment> {
  const log = captureLog('warn');
  const server = await startTestServer(database, {
    env: { ...FAST, MODEL_SERVER_URL: modelServerUrl },
    logger: log.logger,
    mongodbUri: databaseUri(database, uniqueDatabaseName('hygiene')),
  });
  const admin = await signInNewAdmin(server);
  const user = await signInNewUser(server, admin, 'maker@example.com');
  return { server, log, user, modelHost: new URL(modelServerUrl).host };
}

beforeAll(async () => {
  database = await startTestDatabase();
  faulty = await startFaultyModelServer();
  failing = await deploy(faulty.url);
  unreachable = await deploy(`http://127.0.0.1:${await freePort()}`);
});

afterAll(async () => {
  await failing?.server.close();
  await unreachable?.server.close();
  await faulty?.close();
  await database?.stop();
});

/** Queues a job over REST with a known request id and follows it over tRPC to its end. */
async function failedJob(
  { server, user }: Deployment,
  requestId: string,
): Promise<{ job: TJob; updates: TJob[] }> {
  const response = await fetch(`${server.url}/api/jobs`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${user.token}`,
      'x-request-id': requestId,
    },
    body: JSON.stringify({ prompt: 'a leaky teapot' }),
  });
  const created = (await response.json()) as TJob;
  expect(response.status, JSON.stringify(created)).toBe(201);
  const updates = await followJob(clientFor(server, user), created.id);
  const job = updates.at(-1) as TJob;
  expect(job.status).toBe('failed');
  return { job, updates };
}

/** Everything a user can read about the job: REST, tRPC, the live stream and the chat's answer. */
async function everythingUsersSee({ server, user }: Deployment, job: TJob, updates: TJob[]): Promise<string> {
  const viaRest = await callRest(server.url, 'GET', `/jobs/${job.id}`, undefined, user.token);
  const viaTrpc = await clientFor(server, user).jobs.get.query({ id: job.id });
  const listed = await callRest(server.url, 'GET', '/jobs', undefined, user.token);
  const chat = await callRest(
    server.url,
    'GET',
    `/messages?chatId=${String(job.chatId)}`,
    undefined,
    user.token,
  );
  expect(viaRest.body.error).toEqual(job.error);
  expect(viaTrpc.error).toEqual(job.error);
  return JSON.stringify([viaRest.body, viaTrpc, listed.body, chat.body, updates]);
}

function failureLineOf(log: CapturedLog, jobId: string): Promise<LogEntry> {
  return log.waitFor((entry) => entry.jobId === jobId && entry.code !== undefined);
}

describe('model-server errors users see (issue 15 item 13)', () => {
  it("keeps the model server's answer out of job.error over REST, tRPC and the live stream; the log has it", async () => {
    faulty.faults = {
      failSubmits: 100,
      failBody: {
        error: `${MARKER} at http://10.9.8.7:7001/internal/queue`,
        trace: 'File "/opt/model/serve.py"',
      },
    };
    const { job, updates } = await failedJob(failing, 'hygiene-upstream-1');
    expect(job.error).toEqual({
      code: 'MODEL_SERVER_ERROR',
      message: 'The 3D model server ran into an error while making this model. Please try again later.',
    });
    const seen = await everythingUsersSee(failing, job, updates);
    for (const internal of [MARKER, '10.9.8.7', '/opt/model', failing.modelHost, 'http://'])
      expect(seen).not.toContain(internal);

    const line = await failureLineOf(failing.log, job.id);
    expect(line).toMatchObject({ requestId: 'hygiene-upstream-1', code: 'MODEL_SERVER_ERROR' });
    expect(String(line.detail)).toContain(MARKER);
  });

  it('names neither the host nor the port of an unreachable model server to users; the log does', async () => {
    const { job, updates } = await failedJob(unreachable, 'hygiene-unreachable-1');
    expect(job.error?.code).toBe('MODEL_SERVER_UNREACHABLE');
    const seen = await everythingUsersSee(unreachable, job, updates);
    expect(seen).not.toContain(unreachable.modelHost);
    expect(seen).not.toContain('ECONNREFUSED');

    const line = await failureLineOf(unreachable.log, job.id);
    expect(line).toMatchObject({ requestId: 'hygiene-unreachable-1', code: 'MODEL_SERVER_UNREACHABLE' });
    expect(String(line.detail)).toContain(unreachable.modelHost);
  });

  it('answers the blocking generate with GENERATION_FAILED in plain words, over REST and tRPC', async () => {
    faulty.faults = { failSubmits: 100, failBody: { error: MARKER } };
    const viaRest = await callRest(
      failing.server.url,
      'POST',
      '/generate',
      { prompt: 'a leaky kettle' },
      failing.user.token,
    );
    expect([viaRest.status, viaRest.body.code]).toEqual([502, 'GENERATION_FAILED']);
    expect(JSON.stringify(viaRest.body)).not.toContain(MARKER);
    const viaTrpc = await clientFor(failing.server, failing.user)
      .generation.generate.mutate({ prompt: 'a leaky jug' })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(viaTrpc).toBeInstanceOf(Gen3dError);
    expect((viaTrpc as Gen3dError).code).toBe('GENERATION_FAILED');
    expect(JSON.stringify({ message: (viaTrpc as Gen3dError).message })).not.toContain(MARKER);
    expect((viaTrpc as Gen3dError).message).not.toContain(failing.modelHost);
  });
});
