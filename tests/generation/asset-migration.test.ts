import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TAsset, TJob } from '@gen3d/client';

import { runAdminScript, signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
const servers: TestServer[] = [];

beforeAll(async () => {
  database = await startTestDatabase();
});

afterAll(async () => {
  // Last started, first stopped.
  for (const server of servers.reverse()) await server.close();
  await database.stop();
});

describe('pnpm migrate-assets', () => {
  it('copies local asset files into GridFS, once, so a GridFS instance serves them', async () => {
    const local = await startTestServer(database, { env: { AUTH_RATE_LIMIT_MAX: '1000' } });
    servers.push(local);
    const user = await signInNewUser(local, await signInNewAdmin(local), 'mig@example.com');
    const created = await callRest(
      local.url,
      'POST',
      '/jobs',
      { prompt: 'a migrating cylinder' },
      user.token,
    );
    const job = (await followJob(clientFor(local, user), String(created.body.id))).at(-1) as TJob;
    expect(job.status).toBe('succeeded');

    const script = (args: string[]) => runAdminScript(local, 'migrate-assets-to-gridfs', args);
    const first = await script(['--dir', local.config.assets.dir]);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('copied 4 asset files into GridFS, 0 were already there');
    const again = await script(['--dir', local.config.assets.dir]);
    expect(again.output).toContain('copied 0 asset files into GridFS, 4 were already there');

    const gridfs = await startTestServer(database, {
      env: { ASSET_STORAGE: 'gridfs', WORKER_CONCURRENCY: '0' },
      mongodbUri: local.mongodbUri,
    });
    servers.push(gridfs);
    const assets = (await callRest(gridfs.url, 'GET', `/assets?jobId=${job.id}`, undefined, user.token))
      .body as unknown as TAsset[];
    for (const asset of assets) {
      const fromGridFs = Buffer.from(await (await fetch(asset.url)).arrayBuffer());
      const fromDisk = Buffer.from(
        await (await fetch(asset.url.replace(gridfs.url, local.url))).arrayBuffer(),
      );
      expect(fromGridFs.equals(fromDisk), asset.format).toBe(true);
    }
  });
});
