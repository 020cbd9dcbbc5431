import { MongoClient, ObjectId } from 'mongodb';

import { startBenchServer } from './server-process.js';

const JOBS = Number(process.env.BENCH_ANALYTICS_JOBS ?? 100_000);
const USERS = 100;
const CALLS = Number(process.env.BENCH_ANALYTICS_CALLS ?? 20);
/** Issue 18 item 5: every endpoint's p95 at most this. */
const TARGET_MS = 100;
const DAY = 86_400_000;
const STATUSES = [
  'succeeded',
  'succeeded',
  'succeeded',
  'succeeded',
  'failed',
  'canceled',
  'queued',
] as const;
const SERVERS = ['reference', 'shap-e', 'hunyuan3d', 'meshy'];
const ERRORS = ['MODEL_SERVER_TIMEOUT', 'OUTPUT_INVALID', 'GENERATION_FAILED'];

/** Half the jobs belong to one heavy user, the rest to 99 others, spread over 90 days. */
function jobAt(index: number, owners: ObjectId[], now: number) {
  const status = STATUSES[index % STATUSES.length] as (typeof STATUSES)[number];
  const createdAt = new Date(now - (index % 90) * DAY - (index % 1440) * 60_000);
  const prompt = `a ${['red', 'green', 'blue', 'golden'][index % 4]} ${['fox', 'cube', 'chair', 'tower', 'boat'][index % 5]} number ${index % 500}`;
  return {
    ownerId: index % 2 === 0 ? owners[0] : owners[1 + (index % (USERS - 1))],
    chatId: null,
    prompt,
    promptKey: prompt,
    params: {
      seed: index,
      quality: 'standard',
      formats: ['glb'],
      modelServer: SERVERS[index % SERVERS.length],
    },
    idempotencyKey: null,
    status,
    progress: status === 'succeeded' ? 100 : 0,
    attempts: 1,
    maxAttempts: 3,
    fairRank: 0,
    availableAt: createdAt,
    leaseOwner: null,
    claimedBy: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    error: status === 'failed' ? { code: ERRORS[index % ERRORS.length], message: 'bench' } : null,
    outputs: [],
    userMessageId: null,
    startedAt: createdAt,
    finishedAt: status === 'queued' ? null : new Date(createdAt.getTime() + 1000 + (index % 97) * 100),
    computeMs: status === 'succeeded' ? 1000 + (index % 97) * 100 : null,
    version: 1,
    createdAt,
    updatedAt: createdAt,
  };
}

async function loadFixtures(uri: string, heavyUserId: string): Promise<void> {
  const client = await MongoClient.connect(uri);
  try {
    const db = client.db();
    const owners = [new ObjectId(heavyUserId), ...Array.from({ length: USERS - 1 }, () => new ObjectId())];
    const now = Date.now();
    for (let start = 0; start < JOBS; start += 5_000) {
      await db
        .collection('jobs')
        .insertMany(
          Array.from({ length: Math.min(5_000, JOBS - start) }, (_, offset) =>
            jobAt(start + offset, owners, now),
          ),
        );
    }
    const chats = Array.from({ length: 2_000 }, (_, index) => ({
      _id: new ObjectId(),
      ownerId: owners[index % 2 === 0 ? 0 : 1 + (index % (USERS - 1))],
      title: `chat ${index}`,
      lastMessageAt: null,
      createdAt: new Date(now - index * 60_000),
      updatedAt: new Date(now - index * 60_000),
    }));
    await db.collection('chats').insertMany(chats);
    for (let start = 0; start < JOBS / 2; start += 5_000) {
      await db.collection('messages').insertMany(
        Array.from({ length: 5_000 }, (_, offset) => {
          const chat = chats[(start + offset) % chats.length] as (typeof chats)[number];
          return {
            chatId: chat._id,
            ownerId: chat.ownerId,
            role: 'user',
            type: 'text',
            content: 'hello',
            attachments: [],
            jobId: null,
            createdAt: new Date(now - ((start + offset) % 90) * DAY),
          };
        }),
      );
    }
    for (let start = 0; start < JOBS / 5; start += 5_000) {
      await db.collection('assets').insertMany(
        Array.from({ length: 5_000 }, (_, offset) => ({
          ownerId: owners[(start + offset) % 2 === 0 ? 0 : 1 + ((start + offset) % (USERS - 1))],
          jobId: null,
          chatId: null,
          kind: 'model',
          format: 'glb',
          fileName: 'model.glb',
          contentType: 'model/gltf-binary',
          storageKey: `bench/${start + offset}`,
          bytes: 1000 + offset,
          sha256: 'f'.repeat(64),
          vertices: 3,
          triangles: 1,
          bbox: null,
          createdAt: new Date(now - ((start + offset) % 90) * DAY),
        })),
      );
    }
  } finally {
    await client.close();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)] ?? 0;
}

/** Each analytics call against 100,000 jobs (plus chats, messages and assets), for one heavy user and the whole system. */
export async function benchmarkAnalytics(): Promise<void> {
  const bench = await startBenchServer('analytics', { WORKER_CONCURRENCY: '0' });
  try {
    const me = (await (
      await fetch(`${bench.url}/api/auth/me`, { headers: { authorization: `Bearer ${bench.adminToken}` } })
    ).json()) as { id: string };
    const loadStarted = Date.now();
    await loadFixtures(bench.mongodbUri, me.id);
    const loadedIn = (Date.now() - loadStarted) / 1000;
    // Loaded straight into the database like a database from before the rollups: they are built the way
    // the start-up backfill builds them for such a database (the same code, reached over the API).
    const buildStarted = Date.now();
    const build = await fetch(`${bench.url}/api/analytics/rollups/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bench.adminToken}` },
    });
    if (!build.ok) throw new Error(`rebuilding the rollups answered ${build.status}: ${await build.text()}`);
    const built = (await build.json()) as { rollups: number; prompts: number };
    console.log(
      `\nanalytics (${JOBS} jobs, ${JOBS / 2} messages, ${JOBS / 5} assets; loaded in ${loadedIn.toFixed(1)} s; rollups built in ${((Date.now() - buildStarted) / 1000).toFixed(1)} s (${built.rollups} rollups, ${built.prompts} prompt rows); ${CALLS} calls each; target p95 <= ${TARGET_MS} ms)`,
    );
    const paths = [
      '/api/analytics/stats',
      '/api/analytics/dashboard?days=30&timeZone=Europe/Paris',
      '/api/analytics/dashboard?days=90',
      '/api/analytics/generation-metrics?days=30',
      '/api/analytics/popular-prompts?limit=10',
      '/api/analytics/chat-stats',
      '/api/admin/stats',
    ];
    for (const scope of ['', 'all=true']) {
      for (const path of paths) {
        if (scope && path.startsWith('/api/admin')) continue;
        const url = `${bench.url}${path}${scope ? `${path.includes('?') ? '&' : '?'}${scope}` : ''}`;
        const timings: number[] = [];
        let body = '';
        // One unmeasured call first: the steady state is measured, not the first compilation of each path.
        await (await fetch(url, { headers: { authorization: `Bearer ${bench.adminToken}` } })).text();
        for (let call = 0; call < CALLS; call += 1) {
          const started = performance.now();
          const response = await fetch(url, { headers: { authorization: `Bearer ${bench.adminToken}` } });
          body = await response.text();
          if (!response.ok) throw new Error(`${url} answered ${response.status}: ${body}`);
          timings.push(performance.now() - started);
        }
        timings.sort((a, b) => a - b);
        const p95 = percentile(timings, 0.95);
        const who = scope ? 'system' : path.startsWith('/api/admin') ? 'system' : 'heavy user';
        console.log(
          `${`${path} (${who})`.padEnd(72)} p50 ${percentile(timings, 0.5).toFixed(0).padStart(4)} ms  p95 ${p95.toFixed(0).padStart(4)} ms  max ${(timings.at(-1) ?? 0).toFixed(0).padStart(4)} ms  ${p95 <= TARGET_MS ? 'met' : 'MISSED'}`,
        );
        if (path === '/api/analytics/stats')
          console.log(
            `  jobs counted: ${(JSON.parse(body) as { jobs: { total: number } }).jobs.total} (expected ${scope ? JOBS : JOBS / 2})`,
          );
      }
    }
  } finally {
    await bench.stop();
  }
}
