import { createHash } from 'node:crypto';

import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TAsset, TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { databaseUri, uniqueDatabaseName } from '../support/database.js';
import { APP_NAME, startFaultDatabase, withAppName, type FaultDatabase } from '../support/fail-points.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { GENEROUS_LIMITS, startTestServer, type TestServer } from '../support/server.js';

/*
 * GridFS asset storage when a write of the upload fails: the chunk insert, or the files document that
 * makes a file visible once its chunks are written. No half-written file is left or served, the job's
 * attempt fails and its retry stores everything.
 */

let faults: FaultDatabase;
let server: TestServer;
let user: SignedIn;
let inspector: MongoClient;
let db: Db;

beforeAll(async () => {
  faults = await startFaultDatabase();
  if (!faults.failCommand) return;
  const { database } = faults;
  const uri = databaseUri(database, uniqueDatabaseName('storage_faults'));
  server = await startTestServer(database, {
    env: {
      ...GENEROUS_LIMITS,
      AUTH_RATE_LIMIT_MAX: '1000',
      ASSET_STORAGE: 'gridfs',
      WORKER_CONCURRENCY: '1',
      JOB_POLL_INTERVAL_MS: '100',
      JOB_RETRY_BASE_MS: '20',
      JOB_RETRY_MAX_MS: '100',
    },
    mongodbUri: withAppName(uri),
  });
  user = await signInNewUser(server, await signInNewAdmin(server), 'storage@example.com');
  inspector = await MongoClient.connect(uri);
  db = inspector.db();
});

afterAll(async () => {
  await faults.stop(async () => {
    await inspector?.close();
    await server?.close();
  });
});

async function runJob(prompt: string): Promise<TJob> {
  const created = await callRest(server.url, 'POST', '/jobs', { prompt }, user.token);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return (await followJob(clientFor(server, user), String(created.body.id))).at(-1) as TJob;
}

/** GridFS holds exactly the files of the user's assets, each whole: no stray chunk, no file without its asset. */
async function expectStorageConsistent(): Promise<void> {
  const assets = (await callRest(server.url, 'GET', '/assets?limit=100', undefined, user.token))
    .body as unknown as TAsset[];
  const files = await db.collection('assets.files').find().toArray();
  expect(files).toHaveLength(assets.length);
  const fileIds = new Set(files.map((file) => String(file._id)));
  const chunkOwners = await db.collection('assets.chunks').distinct('files_id');
  expect(chunkOwners.filter((owner) => !fileIds.has(String(owner)))).toEqual([]);
  for (const asset of assets) {
    const download = await fetch(asset.url);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(asset.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(asset.sha256);
  }
}

describe('a GridFS write that fails while a job stores its outputs', () => {
  it('a failed chunk write: no half-written asset, the attempt is retried and stores every file', async (context) => {
    const { failCommand } = faults;
    if (!failCommand) return context.skip(faults.skipReason);
    const before = await failCommand.set(
      { times: 1 },
      {
        failCommands: ['insert'],
        namespace: `${db.databaseName}.assets.chunks`,
        appName: APP_NAME,
        errorCode: 91,
      },
    );
    const job = await runJob('a sphere whose chunk write fails');
    await failCommand.waitForEntered(before + 1);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    await expectStorageConsistent();
  });

  it('a failed files document after the chunks were written: the written chunks do not stay behind', async (context) => {
    const { failCommand } = faults;
    if (!failCommand) return context.skip(faults.skipReason);
    const before = await failCommand.set(
      { times: 1 },
      {
        failCommands: ['insert'],
        namespace: `${db.databaseName}.assets.files`,
        appName: APP_NAME,
        errorCode: 91,
      },
    );
    const job = await runJob('a prism whose files document fails');
    await failCommand.waitForEntered(before + 1);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    await expectStorageConsistent();
  });
});
