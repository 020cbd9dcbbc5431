import { MongoClient, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';

import type { TAnalyticsStats, TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { databaseUri, startTestDatabase, uniqueDatabaseName } from '../support/database.js';
import { useFaultySuite } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { uploadImage } from '../support/images.js';
import { discWithAlpha } from '../support/reference-images.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

const suite = useFaultySuite({
  MODEL_SERVER_POLL_INTERVAL_MS: '20',
  JOB_MAX_ATTEMPTS: '1',
  JOB_POLL_INTERVAL_MS: '50',
});

async function get(server: TestServer, path: string, who: SignedIn): Promise<Record<string, unknown>> {
  const answer = await callRest(server.url, 'GET', path, undefined, who.token);
  expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).toBe(200);
  return answer.body;
}

/**
 * Every job and asset figure of every analytics call, for the given scopes, in time zones served by hour
 * rollups (Paris, Tokyo), day rollups (UTC) and by the pipelines (Kolkata +05:30, St John's -03:30).
 * The latest jobs (with their signed URLs) are left out: they are read from the jobs either way. With
 * `ownersAreUsers`, the admin overview's job and asset counts too.
 */
async function figures(server: TestServer, admin: SignedIn, scopes: string[], ownersAreUsers = true) {
  const all: Record<string, unknown> = {};
  for (const scope of scopes) {
    const stats = (await get(server, `/analytics/stats?${scope}`, admin)) as unknown as TAnalyticsStats;
    all[`stats ${scope}`] = {
      jobs: stats.jobs,
      jobsByKind: stats.jobsByKind,
      jobsByInputType: stats.jobsByInputType,
      assets: stats.assets,
    };
    for (const zone of ['UTC', 'Europe/Paris', 'Asia/Tokyo', 'Asia/Kolkata', 'America/St_Johns'])
      all[`dashboard ${zone} ${scope}`] = await get(
        server,
        `/analytics/dashboard?days=3&timeZone=${zone}&${scope}`,
        admin,
      );
    all[`metrics ${scope}`] = await get(server, `/analytics/generation-metrics?days=7&${scope}`, admin);
    all[`prompts ${scope}`] = (
      await get(server, `/analytics/popular-prompts?limit=50&${scope}`, admin)
    ).popular;
    all[`chats ${scope}`] = await get(server, `/analytics/chat-stats?${scope}`, admin);
    // The admin overview counts jobs and assets the same way.
    if (!ownersAreUsers) continue;
    if (scope === 'all=true') {
      const overview = await get(server, '/admin/stats', admin);
      all['admin stats'] = { jobs: overview.jobs, assets: overview.assets };
    } else
      all[`admin user ${scope}`] = (
        await get(server, `/admin/users/${scope.slice('userId='.length)}`, admin)
      ).counts;
  }
  return all;
}

/** Analytics read the jobs again (as after a failed rollup update) until the next rebuild. */
async function readJobsInstead(server: TestServer): Promise<void> {
  const client = await MongoClient.connect(server.mongodbUri);
  try {
    const changed = await client
      .db()
      .collection<{ _id: string }>('analytics_rollup_state')
      .updateOne({ _id: 'rollups' }, { $set: { state: 'stale' } });
    expect(changed.matchedCount).toBe(1);
  } finally {
    await client.close();
  }
}

async function rebuild(server: TestServer, who: SignedIn) {
  return callRest(server.url, 'POST', '/analytics/rollups/rebuild', undefined, who.token);
}

/** A chat of `who` with this many messages, written one after another over REST. */
async function chatWith(who: SignedIn, title: string, messages: number): Promise<string> {
  const chat = await callRest(suite.server.url, 'POST', '/chats', { title }, who.token);
  expect(chat.status, JSON.stringify(chat.body)).toBe(201);
  for (let index = 0; index < messages; index += 1) {
    const message = await callRest(
      suite.server.url,
      'POST',
      '/messages',
      { chatId: chat.body.id, content: `message ${index}` },
      who.token,
    );
    expect(message.status, JSON.stringify(message.body)).toBe(201);
  }
  return String(chat.body.id);
}

async function generate(who: SignedIn, prompt: string, until?: (job: TJob) => boolean): Promise<TJob> {
  const created = await callRest(suite.server.url, 'POST', '/jobs', { prompt }, who.token);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return (await followJob(clientFor(suite.server, who), String(created.body.id), until)).at(-1) as TJob;
}

describe('analytics rollups', () => {
  it('stay equal to what the jobs say through creation, runs, failures, cancels, admin changes and account deletion', async () => {
    const { server, admin, user } = suite;
    const leaving = await signInNewUser(server, admin, 'leaving@example.com');
    await chatWith(user, 'Busy', 3);
    await chatWith(leaving, 'Leaving', 4);
    const doomed = await chatWith(user, 'Doomed', 5);
    await chatWith(user, 'Quiet', 1);
    const deletedChat = await callRest(server.url, 'DELETE', `/chats/${doomed}`, undefined, user.token);
    expect(deletedChat.status, JSON.stringify(deletedChat.body)).toBe(200);
    const fox = await generate(user, 'A Red Fox');
    expect(fox.status).toBe('succeeded');
    expect((await generate(user, 'a red  fox')).status).toBe('succeeded');
    expect((await generate(leaving, 'a red fox')).status).toBe('succeeded');
    expect((await generate(leaving, 'a blue cube')).status).toBe('succeeded');
    suite.faulty.faults.failSubmits = 1;
    const failed = await generate(user, 'a broken chair');
    expect(failed.status).toBe('failed');
    // An admin retries it: failed (with its code) becomes queued, then succeeded.
    const retried = await callRest(
      server.url,
      'PATCH',
      `/jobs/${failed.id}`,
      { status: 'queued' },
      admin.token,
    );
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect((await followJob(clientFor(server, user), failed.id)).at(-1)?.status).toBe('succeeded');
    suite.faulty.faults.neverFinish = true;
    const stuck = await generate(user, 'a stuck tower', (job) => job.status === 'running');
    const adminFailed = await callRest(
      server.url,
      'PATCH',
      `/jobs/${stuck.id}`,
      { status: 'failed', error: { code: 'STUCK', message: 'Stuck for hours' } },
      admin.token,
    );
    expect(adminFailed.status, JSON.stringify(adminFailed.body)).toBe(200);
    const canceling = await generate(user, 'a canceled boat', (job) => job.status === 'running');
    const cancel = await callRest(server.url, 'POST', `/jobs/${canceling.id}/cancel`, undefined, user.token);
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect((await followJob(clientFor(server, user), canceling.id)).at(-1)?.status).toBe('canceled');
    suite.faulty.faults.neverFinish = false;
    // An image-only job and a post-processing job count per kind and input, never as prompts.
    const image = await uploadImage(server, user, await discWithAlpha());
    const imageJob = await callRest(server.url, 'POST', '/jobs', { imageAssetId: image.id }, user.token);
    expect(imageJob.status, JSON.stringify(imageJob.body)).toBe(201);
    const imageRun = await followJob(clientFor(server, user), String(imageJob.body.id));
    expect(imageRun.at(-1), 'the image job, with its error if it failed').toMatchObject({
      status: 'succeeded',
    });
    const foxGlb = fox.outputs.find((output) => output.format === 'glb');
    const { job: recentred } = await clientFor(server, user).postprocess(String(foxGlb?.assetId), {
      kind: 'recenter',
    });
    expect(recentred).toMatchObject({ status: 'succeeded', prompt: 'A Red Fox' });

    const scopes = [`userId=${user.id}`, `userId=${leaving.id}`, 'all=true'];
    const kept = await figures(server, admin, scopes);
    expect(kept['stats all=true']).toMatchObject({
      jobs: { total: 9, succeeded: 7, failed: 1, canceled: 1 },
      jobsByKind: { generate: 8, simplify: 0, weld: 0, recenter: 1, convert: 0 },
      jobsByInputType: { text: 7, image: 1, 'text+image': 0 },
    });
    const mostActive = (kept['chats all=true'] as { mostActive: Array<{ title: string; messages: number }> })
      .mostActive;
    // Jobs queued outside a chat get chats of their own; the deleted chat is gone.
    const named = mostActive.filter((chat) => ['Busy', 'Leaving', 'Doomed', 'Quiet'].includes(chat.title));
    // Only the five most active are listed: Quiet's one message is fewer than any job chat's.
    expect(named.map((chat) => [chat.title, chat.messages])).toEqual([
      ['Leaving', 4],
      ['Busy', 3],
    ]);
    await readJobsInstead(server);
    expect(await figures(server, admin, scopes)).toEqual(kept);
    expect((await rebuild(server, admin)).body).toMatchObject({ jobs: 9 });
    expect(await figures(server, admin, scopes)).toEqual(kept);

    const deleted = await callRest(
      server.url,
      'DELETE',
      `/admin/users/${leaving.id}?confirmEmail=leaving@example.com`,
      undefined,
      admin.token,
    );
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    const afterDeletion = await figures(server, admin, ['all=true']);
    expect(afterDeletion['stats all=true']).toMatchObject({
      jobs: { total: 7 },
      jobsByKind: { generate: 6, recenter: 1 },
      jobsByInputType: { text: 5, image: 1 },
    });
    expect(afterDeletion['prompts all=true']).toEqual([
      expect.objectContaining({ prompt: 'a red fox', count: 2 }),
      expect.objectContaining({ prompt: 'a canceled boat', count: 1 }),
      expect.objectContaining({ prompt: 'a stuck tower', count: 1 }),
      expect.objectContaining({ prompt: 'a broken chair', count: 1 }),
    ]);
    await readJobsInstead(server);
    expect(await figures(server, admin, ['all=true'])).toEqual(afterDeletion);
    expect((await rebuild(server, admin)).status).toBe(200);
    expect(await figures(server, admin, ['all=true'])).toEqual(afterDeletion);
  });

  it('stay equal to what the jobs say when many jobs change at once (their updates then share writes)', async () => {
    const { server, admin } = suite;
    const crowd = await Promise.all(
      [0, 1, 2].map((index) => signInNewUser(server, admin, `crowd-${index}@example.com`)),
    );
    const finished = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        generate(crowd[index % crowd.length] as SignedIn, `crowded prompt ${index % 4}`),
      ),
    );
    expect(finished.map((job) => job.status)).toEqual(Array.from({ length: 12 }, () => 'succeeded'));
    const scopes = [...crowd.map((who) => `userId=${who.id}`), 'all=true'];
    const counted = await figures(server, admin, scopes);
    // Each of the four prompts was used three times, by different accounts at nearly the same moment.
    expect(counted['prompts all=true']).toEqual(
      expect.arrayContaining(
        [0, 1, 2, 3].map((index) => expect.objectContaining({ prompt: `crowded prompt ${index}`, count: 3 })),
      ),
    );
    await readJobsInstead(server);
    expect(await figures(server, admin, scopes)).toEqual(counted);
    expect((await rebuild(server, admin)).status).toBe(200);
    expect(await figures(server, admin, scopes)).toEqual(counted);
  });

  it('are read once built: a job written around them counts after a rebuild, which only admins may run', async () => {
    const { server, admin, user } = suite;
    const before = (await get(server, '/analytics/stats?all=true', admin)) as unknown as TAnalyticsStats;
    const client = await MongoClient.connect(server.mongodbUri);
    try {
      const at = new Date();
      await client
        .db()
        .collection('jobs')
        .insertOne({
          ownerId: new ObjectId(user.id),
          chatId: null,
          prompt: 'written around',
          promptKey: 'written around',
          params: { seed: 1, quality: 'standard', formats: ['glb'], modelServer: 'reference' },
          idempotencyKey: null,
          status: 'canceled',
          progress: 0,
          attempts: 0,
          maxAttempts: 1,
          fairRank: 0,
          availableAt: at,
          error: null,
          outputs: [],
          computeMs: null,
          version: 1,
          createdAt: at,
          updatedAt: at,
        });
    } finally {
      await client.close();
    }
    const unchanged = (await get(server, '/analytics/stats?all=true', admin)) as unknown as TAnalyticsStats;
    expect(unchanged.jobs).toEqual(before.jobs);
    const refused = await rebuild(server, user);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'FORBIDDEN' });
    expect((await rebuild(server, admin)).status).toBe(200);
    const audited = await get(server, '/admin/audit?action=analytics.rollups_rebuilt', admin);
    expect((audited.events as unknown[])[0]).toMatchObject({
      actor: { userId: admin.id },
      target: { type: 'analytics', id: 'rollups' },
      details: { jobs: before.jobs.total + 1 },
    });
    const rebuilt = (await get(server, '/analytics/stats?all=true', admin)) as unknown as TAnalyticsStats;
    expect(rebuilt.jobs).toEqual({
      ...before.jobs,
      total: before.jobs.total + 1,
      canceled: before.jobs.canceled + 1,
    });
  });

  it('are built at start-up from a database that had none, once when several instances start together', async () => {
    const database = await startTestDatabase();
    const uri = databaseUri(database, uniqueDatabaseName('rollups'));
    const owner = new ObjectId();
    const client = await MongoClient.connect(uri);
    const servers: TestServer[] = [];
    try {
      const day = 86_400_000;
      const now = Date.now();
      await client
        .db()
        .collection('jobs')
        .insertMany(
          Array.from({ length: 300 }, (_, index) => {
            const at = new Date(now - (index % 5) * day - index * 1000);
            const succeeded = index % 3 !== 0;
            return {
              ownerId: owner,
              chatId: null,
              prompt: `prompt ${index % 7}`,
              promptKey: `prompt ${index % 7}`,
              params: { seed: index, quality: 'standard', formats: ['glb'], modelServer: 'reference' },
              idempotencyKey: null,
              status: succeeded ? 'succeeded' : 'failed',
              progress: succeeded ? 100 : 0,
              attempts: 1,
              maxAttempts: 1,
              fairRank: 0,
              availableAt: at,
              error: succeeded ? null : { code: 'OUTPUT_INVALID', message: 'no' },
              outputs: [],
              computeMs: succeeded ? 100 + (index % 11) : null,
              version: 1,
              createdAt: at,
              updatedAt: at,
            };
          }),
        );
      servers.push(
        ...(await Promise.all(
          [0, 1].map(() => startTestServer(database, { mongodbUri: uri, env: { WORKER_CONCURRENCY: '0' } })),
        )),
      );
      const state = await client.db().collection('analytics_rollup_state').findOne({});
      expect(state).toMatchObject({ state: 'ready' });
      const admin = await signInNewAdmin(servers[0] as TestServer);
      const scope = `userId=${owner.toHexString()}`;
      for (const server of servers) {
        const stats = (await get(server, `/analytics/stats?${scope}`, admin)) as unknown as TAnalyticsStats;
        expect(stats.jobs).toEqual({
          total: 300,
          queued: 0,
          running: 0,
          succeeded: 200,
          failed: 100,
          canceled: 0,
        });
      }
      const fromRollups = await figures(servers[1] as TestServer, admin, [scope], false);
      await readJobsInstead(servers[0] as TestServer);
      expect(await figures(servers[1] as TestServer, admin, [scope], false)).toEqual(fromRollups);
    } finally {
      for (const server of servers) await server.close();
      await client.close();
      await database.stop();
    }
  });

  it('are built again at start-up from an earlier layout: chats then count their own messages', async () => {
    const database = await startTestDatabase();
    const uri = databaseUri(database, uniqueDatabaseName('rollup-layout'));
    const owner = new ObjectId();
    const client = await MongoClient.connect(uri);
    let server: TestServer | undefined;
    try {
      const db = client.db();
      const at = (minutes: number) => new Date(Date.UTC(2026, 10, 2, 12, minutes));
      const [busy, quiet, empty] = [new ObjectId(), new ObjectId(), new ObjectId()];
      // As the version before left them: chats without counts, the counts in analytics_chats, a ready build.
      await db.collection('chats').insertMany([
        {
          _id: busy,
          ownerId: owner,
          title: 'Busy',
          lastMessageAt: at(3),
          createdAt: at(0),
          updatedAt: at(3),
        },
        {
          _id: quiet,
          ownerId: owner,
          title: 'Quiet',
          lastMessageAt: at(5),
          createdAt: at(0),
          updatedAt: at(5),
        },
        {
          _id: empty,
          ownerId: owner,
          title: 'Empty',
          lastMessageAt: null,
          createdAt: at(0),
          updatedAt: at(0),
        },
      ]);
      await db.collection('messages').insertMany(
        [busy, busy, busy, quiet].map((chatId, index) => ({
          chatId,
          ownerId: owner,
          role: 'user',
          type: 'text',
          content: `message ${index}`,
          attachments: [],
          jobId: null,
          createdAt: chatId === quiet ? at(5) : at(index + 1),
        })),
      );
      await db
        .collection<{ _id: ObjectId; ownerId: ObjectId; messages: number; lastMessageAt: Date }>(
          'analytics_chats',
        )
        .insertOne({ _id: busy, ownerId: owner, messages: 3, lastMessageAt: at(3) });
      await db.collection<Record<string, unknown> & { _id: string }>('analytics_rollup_state').insertOne({
        _id: 'rollups',
        state: 'ready',
        buildId: 'built-by-layout-1',
        startedAt: at(0),
        finishedAt: at(1),
      });

      server = await startTestServer(database, { mongodbUri: uri, env: { WORKER_CONCURRENCY: '0' } });
      expect(await db.collection('analytics_rollup_state').findOne({})).toMatchObject({
        state: 'ready',
        layout: 2,
      });
      expect(await db.listCollections({ name: 'analytics_chats' }).toArray()).toEqual([]);
      // Recounting is no activity: the chats keep their place in their owner's list.
      expect(
        (
          await db
            .collection('chats')
            .find({}, { sort: { _id: 1 } })
            .toArray()
        ).map((chat) => chat.updatedAt),
      ).toEqual(
        [busy, quiet, empty]
          .sort((a, b) => a.toHexString().localeCompare(b.toHexString()))
          .map((id) => (id === empty ? at(0) : id === busy ? at(3) : at(5))),
      );
      const admin = await signInNewAdmin(server);
      const scope = `userId=${owner.toHexString()}`;
      const counted = await get(server, `/analytics/chat-stats?${scope}`, admin);
      expect(counted.mostActive).toEqual([
        { chatId: busy.toHexString(), title: 'Busy', messages: 3, lastMessageAt: at(3).toISOString() },
        { chatId: quiet.toHexString(), title: 'Quiet', messages: 1, lastMessageAt: at(5).toISOString() },
      ]);
      await readJobsInstead(server);
      expect(await get(server, `/analytics/chat-stats?${scope}`, admin)).toEqual(counted);
    } finally {
      await server?.close();
      await client.close();
      await database.stop();
    }
  });
});
