import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TAsset, TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { databaseUri, uniqueDatabaseName } from '../support/database.js';
import {
  APP_NAME,
  databaseNameOf,
  startFaultDatabase,
  withAppName,
  type FaultDatabase,
} from '../support/fail-points.js';
import { clientFor, followJob } from '../support/generation.js';
import { startHeldModelServer, type HeldModelServer } from '../support/held-model-server.js';
import { captureLog, type CapturedLog } from '../support/logs.js';
import { callRest } from '../support/rest.js';
import { GENEROUS_LIMITS, startTestServer, type TestServer } from '../support/server.js';

/*
 * The job queue when the database fails at the worst moments: the claim's findAndModify loses its
 * connection, and the write that records a finished run fails (did not happen, or happened but answered
 * a failure). No job is lost or run twice, a run whose success was not written is retried, and no asset
 * of an unrecorded run is left behind.
 *
 * After the first progress write, the only writes of a running job are its lease renewals (every third
 * of JOB_LEASE_MS, long here) and its outcome, so a `{times: 1}` fail point on the jobs collection's
 * findAndModify hits exactly the outcome write.
 */

let faults: FaultDatabase;
let model: HeldModelServer;
let server: TestServer;
let user: SignedIn;
let log: CapturedLog;

beforeAll(async () => {
  faults = await startFaultDatabase();
  if (!faults.failCommand) return;
  const { database } = faults;
  model = await startHeldModelServer();
  log = captureLog('warn');
  server = await startTestServer(database, {
    env: {
      ...GENEROUS_LIMITS,
      AUTH_RATE_LIMIT_MAX: '1000',
      WORKER_CONCURRENCY: '1',
      MODEL_SERVER_URL: model.url,
      MODEL_SERVER_POLL_INTERVAL_MS: '50',
      JOB_LEASE_MS: '300000',
      JOB_PROGRESS_INTERVAL_MS: '600000',
      JOB_POLL_INTERVAL_MS: '100',
      JOB_RETRY_BASE_MS: '20',
      JOB_RETRY_MAX_MS: '100',
    },
    logger: log.logger,
    mongodbUri: withAppName(databaseUri(database, uniqueDatabaseName('db_faults'))),
  });
  user = await signInNewUser(server, await signInNewAdmin(server), 'faults@example.com');
});

afterAll(async () => {
  await faults.stop(async () => {
    await server?.close();
    await model?.close();
  });
});

function jobsNamespace(): string {
  const collection = server.app.database.connection.model('Job').collection.collectionName;
  return `${databaseNameOf(server.mongodbUri)}.${collection}`;
}

async function createJob(prompt: string): Promise<string> {
  const created = await callRest(server.url, 'POST', '/jobs', { prompt }, user.token);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return String(created.body.id);
}

async function assetsOf(jobId?: string): Promise<TAsset[]> {
  const path = jobId ? `/assets?jobId=${jobId}` : '/assets?limit=100';
  return (await callRest(server.url, 'GET', path, undefined, user.token)).body as unknown as TAsset[];
}

describe('the database fails under the job queue', () => {
  it('a claim whose connection is dropped loses no job and runs none twice', async (context) => {
    const { failCommand } = faults;
    if (!failCommand) return context.skip(faults.skipReason);
    const prompt = 'a cube claimed over a dropped connection';
    model.release(prompt);
    const before = await failCommand.set(
      { times: 1 },
      {
        failCommands: ['findAndModify'],
        namespace: jobsNamespace(),
        appName: APP_NAME,
        closeConnection: true,
      },
    );
    const jobId = await createJob(prompt);
    await failCommand.waitForEntered(before + 1);

    const final = (await followJob(clientFor(server, user), jobId)).at(-1) as TJob;
    expect(final).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    expect(model.started.filter((started) => started === prompt)).toHaveLength(1);
    expect(log.entries.some((entry) => entry.msg === 'claiming a job failed')).toBe(true);
    expect(await assetsOf(jobId)).toHaveLength(final.outputs.length);
  });

  it('a run whose success write fails is handed back and retried, and leaves no stray assets', async (context) => {
    const { failCommand } = faults;
    if (!failCommand) return context.skip(faults.skipReason);
    const prompt = 'a torus whose success write fails';
    const assetsBefore = (await assetsOf()).length;
    const jobId = await createJob(prompt);
    await followJob(clientFor(server, user), jobId, (job) => job.status === 'running' && job.progress > 0);
    const before = await failCommand.set(
      { times: 1 },
      { failCommands: ['findAndModify'], namespace: jobsNamespace(), appName: APP_NAME, errorCode: 91 },
    );
    model.release(prompt);

    const final = (await followJob(clientFor(server, user), jobId, (job) => job.status === 'succeeded')).at(
      -1,
    ) as TJob;
    await failCommand.waitForEntered(before + 1);
    expect(final).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    expect(model.started.filter((started) => started === prompt)).toHaveLength(2);
    expect(
      log.entries.some((entry) => entry.jobId === jobId && entry.msg === 'writing a job success failed'),
    ).toBe(true);
    // Only the recorded run's outputs exist: the files of the run that could not be recorded were removed.
    const outputs = await assetsOf(jobId);
    expect(outputs.map((asset) => asset.id).sort()).toEqual(
      final.outputs.map((output) => output.assetId).sort(),
    );
    expect((await assetsOf()).length).toBe(assetsBefore + final.outputs.length);
  });

  it('a success write that happened but answered a failure keeps the run: succeeded once, announced, assets kept', async (context) => {
    const { failCommand } = faults;
    if (!failCommand) return context.skip(faults.skipReason);
    const prompt = 'a cone whose success answer is lost';
    const assetsBefore = (await assetsOf()).length;
    const jobId = await createJob(prompt);
    await followJob(clientFor(server, user), jobId, (job) => job.status === 'running' && job.progress > 0);
    const before = await failCommand.set(
      { times: 1 },
      {
        failCommands: ['findAndModify'],
        namespace: jobsNamespace(),
        appName: APP_NAME,
        writeConcernError: {
          code: 91,
          codeName: 'ShutdownInProgress',
          errmsg: 'Replication is being shut down',
        },
      },
    );
    model.release(prompt);

    const final = (await followJob(clientFor(server, user), jobId)).at(-1) as TJob;
    await failCommand.waitForEntered(before + 1);
    expect(final).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    expect(model.started.filter((started) => started === prompt)).toHaveLength(1);
    const outputs = await assetsOf(jobId);
    expect(outputs.map((asset) => asset.id).sort()).toEqual(
      final.outputs.map((output) => output.assetId).sort(),
    );
    expect((await assetsOf()).length).toBe(assetsBefore + final.outputs.length);
    // The job's chat was told, once.
    const messages = (
      await callRest(server.url, 'GET', `/messages?chatId=${String(final.chatId)}`, undefined, user.token)
    ).body as unknown as Array<{ role: string }>;
    expect(messages.filter((message) => message.role === 'assistant')).toHaveLength(1);
  });
});
