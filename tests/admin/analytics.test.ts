import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  TAnalyticsStats,
  TChatStats,
  TDashboard,
  TGenerationMetrics,
  TPopularPrompts,
} from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const TOKYO = 9 * HOUR; // Asia/Tokyo keeps +09:00 all year.

// Day boundaries are computed from one instant; the fixtures sit well inside their days.
const now = Date.now();
const utcToday = Math.floor(now / DAY) * DAY;
/** The instant local midnight began, `daysAgo` days before today, in UTC and in Tokyo. */
const utcMidnight = (daysAgo: number): number => utcToday - daysAgo * DAY;
const tokyoWallToday = Math.floor((now + TOKYO) / DAY) * DAY;
const tokyoMidnight = (daysAgo: number): number => tokyoWallToday - daysAgo * DAY - TOKYO;
const tokyoDate = (daysAgo: number): string =>
  new Date(tokyoWallToday - daysAgo * DAY).toISOString().slice(0, 10);
/** An instant today that has passed: today's fixtures are never in the future. */
const earlierToday = (midnight: number): number => Math.max(midnight, now - 2 * MINUTE);

let database: TestDatabase;
let server: TestServer;
let admin: SignedIn;
let traveller: SignedIn;
let maker: SignedIn;
let chatty: SignedIn;
let fixtures: { jobs: number; assets: number; chats: number; messages: number };

interface JobFixture {
  owner: SignedIn;
  at: number;
  status?: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
  prompt?: string;
  modelServer?: string;
  computeMs?: number;
  errorCode?: string;
  /** Unset: a job recorded before inputs were recorded (a text generation). */
  inputType?: 'text' | 'image' | 'text+image';
}

function jobDocument({
  owner,
  at,
  status = 'succeeded',
  prompt = 'a cube',
  inputType,
  modelServer = 'reference',
  computeMs,
  errorCode,
}: JobFixture) {
  const finished = status === 'succeeded' || status === 'failed' || status === 'canceled';
  return {
    _id: new ObjectId(),
    ownerId: new ObjectId(owner.id),
    chatId: null,
    prompt,
    promptKey: prompt.trim().replace(/\s+/g, ' ').toLowerCase(),
    params: { seed: 1, quality: 'standard', formats: ['glb'], modelServer },
    idempotencyKey: null,
    status,
    progress: status === 'succeeded' ? 100 : 0,
    attempts: status === 'queued' ? 0 : 1,
    maxAttempts: 3,
    fairRank: 0,
    availableAt: new Date(at),
    leaseOwner: null,
    claimedBy: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    error: errorCode ? { code: errorCode, message: 'it went wrong' } : null,
    outputs: [],
    userMessageId: null,
    startedAt: status === 'queued' ? null : new Date(at),
    finishedAt: finished ? new Date(at + (computeMs ?? 0)) : null,
    computeMs: computeMs ?? null,
    version: 1,
    createdAt: new Date(at),
    updatedAt: new Date(at),
    ...(inputType ? { kind: 'generate', inputType } : {}),
  };
}

function assetDocument(owner: SignedIn, at: number, bytes: number) {
  return {
    ownerId: new ObjectId(owner.id),
    jobId: null,
    chatId: null,
    kind: 'model',
    format: 'glb',
    fileName: 'model.glb',
    contentType: 'model/gltf-binary',
    storageKey: `fixture/${new ObjectId().toHexString()}`,
    bytes,
    sha256: 'f'.repeat(64),
    vertices: 3,
    triangles: 1,
    bbox: null,
    createdAt: new Date(at),
  };
}

beforeAll(async () => {
  database = await startTestDatabase();
  // No workers: the fixtures' queued jobs stay queued.
  server = await startTestServer(database, { env: { AUTH_RATE_LIMIT_MAX: '1000', WORKER_CONCURRENCY: '0' } });
  admin = await signInNewAdmin(server);
  traveller = await signInNewUser(server, admin, 'traveller@example.com');
  maker = await signInNewUser(server, admin, 'maker@example.com');
  chatty = await signInNewUser(server, admin, 'chatty@example.com');
  const db = server.app.database.connection;

  const jobs: JobFixture[] = [
    // The traveller, in Tokyo days: 1, 0 (empty), 2, 1, 1 over the last five days; one just before the window.
    { owner: traveller, at: tokyoMidnight(4) - MINUTE },
    { owner: traveller, at: tokyoMidnight(4) + 30 * MINUTE },
    {
      owner: traveller,
      at: tokyoMidnight(2) + 8 * HOUR,
      status: 'failed',
      errorCode: 'MODEL_SERVER_TIMEOUT',
    },
    { owner: traveller, at: tokyoMidnight(2) + 23 * HOUR + 30 * MINUTE },
    { owner: traveller, at: tokyoMidnight(1) + 5 * HOUR, status: 'failed', errorCode: 'OUTPUT_INVALID' },
    { owner: traveller, at: earlierToday(tokyoMidnight(0)) },
    // The maker, within the last 30 UTC days, and one job 40 days ago.
    { owner: maker, at: utcMidnight(1) + HOUR, computeMs: 1000, prompt: 'A Red Fox', inputType: 'text' },
    { owner: maker, at: utcMidnight(2) + HOUR, computeMs: 2000, prompt: 'a red  fox ' },
    { owner: maker, at: utcMidnight(3) + HOUR, computeMs: 3000, prompt: 'a red fox' },
    {
      owner: maker,
      at: utcMidnight(4) + HOUR,
      status: 'failed',
      errorCode: 'MODEL_SERVER_TIMEOUT',
      prompt: 'Blue Cube',
    },
    {
      owner: maker,
      at: utcMidnight(5) + HOUR,
      modelServer: 'hunyuan3d',
      computeMs: 4000,
      prompt: 'blue cube',
      inputType: 'text+image',
    },
    {
      owner: maker,
      at: utcMidnight(6) + HOUR,
      modelServer: 'hunyuan3d',
      computeMs: 10_000,
      prompt: 'green cone',
      inputType: 'image',
    },
    {
      owner: maker,
      at: utcMidnight(7) + HOUR,
      modelServer: 'hunyuan3d',
      status: 'failed',
      errorCode: 'OUTPUT_INVALID',
      prompt: 'green cone',
    },
    {
      owner: maker,
      at: utcMidnight(8) + HOUR,
      modelServer: 'hunyuan3d',
      status: 'canceled',
      prompt: 'green cone',
    },
    {
      owner: maker,
      at: earlierToday(utcMidnight(0)),
      modelServer: 'meshy',
      status: 'queued',
      prompt: 'green cone',
    },
    { owner: maker, at: utcMidnight(40), computeMs: 99_000, prompt: 'an old prompt' },
  ];
  await db.collection('jobs').insertMany(jobs.map(jobDocument));
  const assets = [
    assetDocument(traveller, tokyoMidnight(2) + HOUR, 100),
    assetDocument(traveller, tokyoMidnight(2) + 2 * HOUR, 200),
    assetDocument(traveller, earlierToday(tokyoMidnight(0)), 50),
    assetDocument(maker, utcMidnight(1), 1000),
  ];
  await db.collection('assets').insertMany(assets);

  const chats = ['Busy', 'Quiet', 'Empty'].map((title, index) => ({
    _id: new ObjectId(),
    ownerId: new ObjectId(chatty.id),
    title,
    lastMessageAt: null,
    createdAt: new Date(now - (10 - index) * HOUR),
    updatedAt: new Date(now - (10 - index) * HOUR),
  }));
  await db.collection('chats').insertMany(chats);
  const message = (chatIndex: number, minutesAgo: number) => ({
    chatId: chats[chatIndex]?._id,
    ownerId: new ObjectId(chatty.id),
    role: 'user',
    type: 'text',
    content: 'hello',
    attachments: [],
    jobId: null,
    createdAt: new Date(now - minutesAgo * MINUTE),
  });
  await db.collection('messages').insertMany([message(0, 30), message(0, 20), message(0, 10), message(1, 5)]);
  fixtures = { jobs: jobs.length, assets: assets.length, chats: chats.length, messages: 4 };
  // The fixtures went straight into the database, as in a database migrated from before the rollups:
  // they are counted into the rollups the way the start-up backfill counts such a database.
  const rebuilt = await callRest(server.url, 'POST', '/analytics/rollups/rebuild', undefined, admin.token);
  expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(200);
});

afterAll(async () => {
  await server?.close();
  await database?.stop();
});

async function get<T>(path: string, who: SignedIn): Promise<T> {
  const answer = await callRest(server.url, 'GET', path, undefined, who.token);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as unknown as T;
}

describe('GET /api/analytics/dashboard', () => {
  it('counts jobs and assets per day in the given time zone, empty days included', async () => {
    const dashboard = await get<TDashboard>('/analytics/dashboard?days=5&timeZone=Asia/Tokyo', traveller);
    expect(dashboard.from).toBe(new Date(tokyoMidnight(4)).toISOString());
    expect(dashboard.jobsPerDay).toEqual([
      { date: tokyoDate(4), count: 1, succeeded: 1, failed: 0 },
      { date: tokyoDate(3), count: 0, succeeded: 0, failed: 0 },
      { date: tokyoDate(2), count: 2, succeeded: 1, failed: 1 },
      { date: tokyoDate(1), count: 1, succeeded: 0, failed: 1 },
      { date: tokyoDate(0), count: 1, succeeded: 1, failed: 0 },
    ]);
    expect(dashboard.assetsPerDay.map((day) => [day.count, day.bytes])).toEqual([
      [0, 0],
      [0, 0],
      [2, 300],
      [0, 0],
      [1, 50],
    ]);
    expect(dashboard.totals).toEqual({ jobs: 5, assets: 3 });
  });

  it('counts in UTC by default', async () => {
    const dashboard = await get<TDashboard>('/analytics/dashboard?days=3', maker);
    expect(dashboard).toMatchObject({ timeZone: 'UTC', from: new Date(utcMidnight(2)).toISOString() });
    expect(dashboard.jobsPerDay.map((day) => day.count)).toEqual([1, 1, 1]);
    expect(dashboard.jobsPerDay.map((day) => day.date)).toEqual(
      [2, 1, 0].map((daysAgo) => new Date(utcMidnight(daysAgo)).toISOString().slice(0, 10)),
    );
    expect(dashboard.assetsPerDay.map((day) => day.count)).toEqual([0, 1, 0]);
  });

  it('refuses an unknown time zone and days out of range', async () => {
    for (const query of ['?timeZone=Mars/Olympus', '?days=0', '?days=400', '?days=ten']) {
      const answer = await callRest(
        server.url,
        'GET',
        `/analytics/dashboard${query}`,
        undefined,
        maker.token,
      );
      expect(answer.status, query).toBe(400);
      expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });
});

describe('GET /api/analytics/generation-metrics', () => {
  it('gives the success rate, average/p50/p95 durations, failures by code and figures per model server', async () => {
    const metrics = await get<TGenerationMetrics>('/analytics/generation-metrics?days=30', maker);
    expect(metrics.jobs).toEqual({ total: 9, queued: 1, running: 0, succeeded: 5, failed: 2, canceled: 1 });
    expect(metrics.successRate).toBeCloseTo(5 / 7, 10);
    // Durations of succeeded jobs: 1000, 2000, 3000, 4000, 10000 (nearest rank).
    expect(metrics.durationMs).toEqual({ average: 4000, p50: 3000, p95: 10_000 });
    expect(metrics.failuresByCode).toEqual([
      { code: 'MODEL_SERVER_TIMEOUT', count: 1 },
      { code: 'OUTPUT_INVALID', count: 1 },
    ]);
    expect(metrics.byModelServer).toEqual([
      {
        modelServer: 'hunyuan3d',
        total: 4,
        succeeded: 2,
        failed: 1,
        successRate: 2 / 3,
        averageDurationMs: 7000,
      },
      {
        modelServer: 'reference',
        total: 4,
        succeeded: 3,
        failed: 1,
        successRate: 3 / 4,
        averageDurationMs: 2000,
      },
      { modelServer: 'meshy', total: 1, succeeded: 0, failed: 0, successRate: null, averageDurationMs: null },
    ]);
  });

  it('has no rates or durations without finished jobs', async () => {
    const metrics = await get<TGenerationMetrics>('/analytics/generation-metrics?days=7', chatty);
    expect(metrics).toMatchObject({
      successRate: null,
      durationMs: { average: null, p50: null, p95: null },
      failuresByCode: [],
      byModelServer: [],
    });
  });
});

describe('GET /api/analytics/popular-prompts', () => {
  it('ranks prompts with case and spacing ignored, and lists the latest', async () => {
    const prompts = await get<TPopularPrompts>('/analytics/popular-prompts?limit=3', maker);
    expect(prompts.popular.map((row) => [row.prompt, row.count])).toEqual([
      ['green cone', 4],
      ['a red fox', 3],
      ['blue cube', 2],
    ]);
    expect(prompts.recent.map((row) => row.prompt)).toEqual(['green cone', 'A Red Fox', 'a red  fox ']);
  });
});

describe('GET /api/analytics/chat-stats and /stats', () => {
  it('counts chats and messages and finds the most active chats', async () => {
    const stats = await get<TChatStats>('/analytics/chat-stats', chatty);
    expect(stats).toMatchObject({ chats: 3, messages: 4, messagesPerChat: 1.33 });
    expect(stats.mostActive.map((chat) => [chat.title, chat.messages])).toEqual([
      ['Busy', 3],
      ['Quiet', 1],
    ]);
  });

  it("counts the caller's jobs by status, assets, chats and messages", async () => {
    const stats = await get<TAnalyticsStats>('/analytics/stats', maker);
    expect(stats.jobs).toEqual({ total: 10, queued: 1, running: 0, succeeded: 6, failed: 2, canceled: 1 });
    expect(stats.jobsByKind).toEqual({ generate: 10, simplify: 0, weld: 0, recenter: 0, convert: 0 });
    // Jobs recorded before inputs were (no inputType) count as text.
    expect(stats.jobsByInputType).toEqual({ text: 8, image: 1, 'text+image': 1 });
    expect(stats.assets).toEqual({ total: 1, bytes: 1000 });
    expect(stats.recent.jobs.map((job) => job.prompt)).toEqual([
      'green cone',
      'A Red Fox',
      'a red  fox ',
      'a red fox',
      'Blue Cube',
    ]);
    expect(stats.scope).toEqual({ userId: maker.id });
  });
});

describe('whose analytics', () => {
  it("lets admins read any user's or the whole system's, and nobody else", async () => {
    expect((await get<TAnalyticsStats>(`/analytics/stats?userId=${maker.id}`, admin)).jobs.total).toBe(10);
    const system = await get<TAnalyticsStats>('/analytics/stats?all=true', admin);
    expect(system.scope).toEqual({ userId: null });
    expect(system.jobs.total).toBe(fixtures.jobs);
    expect(system.assets.total).toBe(fixtures.assets);
    expect(system.chats.total).toBe(fixtures.chats);
    expect(system.messages.total).toBe(fixtures.messages);
    expect((await get<TAnalyticsStats>('/analytics/stats?all=false', maker)).jobs.total).toBe(10);
    expect((await get<TAnalyticsStats>(`/analytics/stats?userId=${maker.id}`, maker)).jobs.total).toBe(10);

    for (const path of [
      '/analytics/stats',
      '/analytics/dashboard',
      '/analytics/generation-metrics',
      '/analytics/popular-prompts',
      '/analytics/chat-stats',
    ]) {
      expect(
        (await callRest(server.url, 'GET', `${path}?all=true`, undefined, maker.token)).status,
        path,
      ).toBe(403);
      expect(
        (await callRest(server.url, 'GET', `${path}?userId=${traveller.id}`, undefined, maker.token)).status,
        path,
      ).toBe(403);
      expect((await callRest(server.url, 'GET', path)).status, path).toBe(401);
    }
  });
});
