import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TAdminJobList, TAdminStats, TAdminUserDetail } from '@gen3d/client';
import { generateModelFiles } from '@gen3d/server';

import { logIn, signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let server: TestServer;
let admin: SignedIn;
let moderator: SignedIn;
let ana: SignedIn;
let ben: SignedIn;
const jobIds: string[] = [];
let glbBytes = 0;

// One job per user runs at a time and a generation takes a minute: the fixtures stay running or queued.
beforeAll(async () => {
  database = await startTestDatabase();
  server = await startTestServer(database, {
    env: { AUTH_RATE_LIMIT_MAX: '1000', JOBS_MAX_RUNNING_PER_USER: '1', WORKER_CONCURRENCY: '2' },
    modelDurationMs: 60_000,
  });
  admin = await signInNewAdmin(server);
  const mod = await signInNewUser(server, admin, 'mod@example.com');
  expect(
    (
      await callRest(
        server.url,
        'PATCH',
        `/admin/users/${mod.id}/roles`,
        { roles: ['user', 'moderator'] },
        admin.token,
      )
    ).status,
  ).toBe(200);
  moderator = await logIn(server, mod.email, 'user password 1');
  ana = await signInNewUser(server, admin, 'ana@example.com');
  ben = await signInNewUser(server, admin, 'ben@example.com');

  const chat = await callRest(server.url, 'POST', '/chats', { title: 'Ana at work' }, ana.token);
  for (const [who, prompt] of [
    [ana, 'a red teapot'],
    [ana, 'a blue teapot'],
    [ben, 'a green chair'],
  ] as const) {
    const created = await callRest(
      server.url,
      'POST',
      '/jobs',
      { prompt, ...(who === ana ? { chatId: chat.body.id } : {}) },
      who.token,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    jobIds.push(String(created.body.id));
  }
  await followJob(clientFor(server, ana), jobIds[0] as string, (job) => job.status === 'running');
  await followJob(clientFor(server, ben), jobIds[2] as string, (job) => job.status === 'running');

  const glb = (await generateModelFiles('a cube', 1, 'draft')).files.find((file) => file.name === 'mesh.glb')
    ?.bytes as Uint8Array;
  glbBytes = glb.byteLength;
  const asset = await callRest(
    server.url,
    'POST',
    '/assets',
    { format: 'glb', data: Buffer.from(glb).toString('base64'), userId: ana.id, chatId: chat.body.id },
    admin.token,
  );
  expect(asset.status, JSON.stringify(asset.body)).toBe(201);
  expect(
    (await callRest(server.url, 'POST', `/admin/users/${ben.id}/deactivate`, undefined, admin.token)).status,
  ).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await database?.stop();
});

describe('GET /api/admin/stats', () => {
  it('counts users, jobs by status, the queue per instance, assets and bytes, chats and messages', async () => {
    const answer = await callRest(server.url, 'GET', '/admin/stats', undefined, admin.token);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const stats = answer.body as unknown as TAdminStats;
    expect(stats.users).toEqual({
      total: 4,
      verified: 4,
      deactivated: 1,
      active24h: 4,
      active7d: 4,
      byRole: { user: 4, moderator: 1, admin: 1 },
    });
    expect(stats.jobs).toMatchObject({
      total: 3,
      byStatus: { queued: 1, running: 2, succeeded: 0, failed: 0, canceled: 0 },
      byKind: { generate: 3, simplify: 0, weld: 0, recenter: 0, convert: 0 },
      byInputType: { text: 3, image: 0, 'text+image': 0 },
      queueDepth: 1,
    });
    expect(stats.jobs.oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(stats.jobs.runningByInstance).toHaveLength(1);
    expect(stats.jobs.runningByInstance[0]).toMatchObject({
      running: 2,
      instance: expect.stringContaining(`:${process.pid}:`),
    });
    expect(stats.assets).toEqual({ total: 1, bytes: glbBytes });
    // Ana: one chat for both prompts; Ben: the chat his prompt opened. One user message per prompt.
    expect(stats.chats.total).toBe(2);
    expect(stats.messages.total).toBe(3);
    expect(stats.recent.users.map((user) => user.email)).toEqual([
      'ben@example.com',
      'ana@example.com',
      'mod@example.com',
      'root@example.com',
    ]);
    expect(stats.recent.jobs.map((job) => [job.prompt, job.ownerId])).toEqual([
      ['a green chair', ben.id],
      ['a blue teapot', ana.id],
      ['a red teapot', ana.id],
    ]);
  });
});

describe('GET /api/admin/users/:id', () => {
  it('shows what a user owns and how many sessions they hold', async () => {
    const answer = await callRest(server.url, 'GET', `/admin/users/${ana.id}`, undefined, moderator.token);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const detail = answer.body as unknown as TAdminUserDetail;
    expect(detail.user).toMatchObject({ id: ana.id, email: 'ana@example.com', active: true });
    expect(Date.parse(detail.lastActiveAt ?? '')).toBeLessThanOrEqual(Date.now());
    expect(detail.counts).toEqual({
      chats: 1,
      messages: 2,
      jobs: 2,
      jobsByStatus: { queued: 1, running: 1, succeeded: 0, failed: 0, canceled: 0 },
      assets: 1,
      assetBytes: glbBytes,
      activeSessions: 1,
    });
    const benDetail = (await callRest(server.url, 'GET', `/admin/users/${ben.id}`, undefined, admin.token))
      .body as unknown as TAdminUserDetail;
    expect(benDetail.counts.activeSessions).toBe(0);
    expect(
      (await callRest(server.url, 'GET', '/admin/users/0123456789abcdef01234567', undefined, admin.token))
        .status,
    ).toBe(404);
  });
});

describe('GET /api/admin/jobs', () => {
  it("lists every user's jobs with filters and pages", async () => {
    const list = async (query: string): Promise<TAdminJobList> => {
      const answer = await callRest(server.url, 'GET', `/admin/jobs${query}`, undefined, admin.token);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body as unknown as TAdminJobList;
    };
    expect((await list('')).jobs.map((job) => job.id)).toEqual([...jobIds].reverse());
    expect((await list('?status=queued')).jobs.map((job) => job.id)).toEqual([jobIds[1]]);
    expect((await list(`?userId=${ben.id}`)).jobs.map((job) => job.prompt)).toEqual(['a green chair']);
    expect((await list('?search=TEAPOT')).jobs.map((job) => job.prompt)).toEqual([
      'a blue teapot',
      'a red teapot',
    ]);
    expect((await list('?search=.*')).jobs).toEqual([]);
    expect((await list('?modelServer=reference')).pagination.total).toBe(3);
    const page = await list('?limit=2&page=2');
    expect(page.pagination).toEqual({ page: 2, limit: 2, total: 3, pages: 2 });
    expect(page.jobs.map((job) => job.id)).toEqual([jobIds[0]]);
    expect(
      (await callRest(server.url, 'GET', '/admin/jobs?status=exploded', undefined, admin.token)).status,
    ).toBe(400);
  });
});

describe('roles on every admin procedure', () => {
  const someId = () => ana.id;
  const reads: Array<[string, () => string]> = [
    ['/admin/stats', () => ''],
    ['/admin/users', () => ''],
    ['/admin/users/', someId],
    ['/admin/jobs', () => ''],
  ];

  it('lets moderators read and admins do everything; users get 403, strangers 401', async () => {
    for (const [path, suffix] of reads) {
      expect(
        (await callRest(server.url, 'GET', `${path}${suffix()}`, undefined, ana.token)).status,
        path,
      ).toBe(403);
      expect((await callRest(server.url, 'GET', `${path}${suffix()}`)).status, path).toBe(401);
      expect(
        (await callRest(server.url, 'GET', `${path}${suffix()}`, undefined, moderator.token)).status,
        path,
      ).toBe(200);
      expect(
        (await callRest(server.url, 'GET', `${path}${suffix()}`, undefined, admin.token)).status,
        path,
      ).toBe(200);
    }
    const writes: Array<['GET' | 'POST' | 'PATCH' | 'DELETE', string, unknown]> = [
      ['GET', '/admin/audit', undefined],
      ['PATCH', `/admin/users/${ana.id}/roles`, { roles: ['user'] }],
      ['POST', `/admin/users/${ana.id}/deactivate`, undefined],
      ['POST', `/admin/users/${ana.id}/reactivate`, undefined],
      ['DELETE', `/admin/users/${ana.id}?confirmEmail=ana@example.com`, undefined],
      ['PATCH', `/jobs/${jobIds[0]}`, { progress: 5 }],
      ['POST', '/assets', { format: 'glb', data: 'Z2xURg==' }],
    ];
    for (const [method, path, body] of writes) {
      for (const who of [ana, moderator])
        expect((await callRest(server.url, method, path, body, who.token)).status, `${method} ${path}`).toBe(
          403,
        );
      expect((await callRest(server.url, method, path, body)).status, `${method} ${path}`).toBe(401);
    }
  });

  it('deletes a user with the confirmation in a JSON body, as the earlier API did', async () => {
    const cid = await signInNewUser(server, admin, 'cid@example.com');
    const wrong = await fetch(`${server.url}/api/admin/users/${cid.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ confirmEmail: 'someone@example.com' }),
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'CONFIRMATION_MISMATCH' });
    const injected = await fetch(`${server.url}/api/admin/users/${cid.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ confirmEmail: { $ne: 'x' } }),
    });
    expect(injected.status).toBe(400);
    const deleted = await fetch(`${server.url}/api/admin/users/${cid.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ confirmEmail: 'cid@example.com' }),
    });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ ok: true, deleted: { accounts: 1 } });
  });
});
