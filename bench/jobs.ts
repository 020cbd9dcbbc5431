import { MongoClient } from 'mongodb';

import { createGen3dClient, type TJob } from '@gen3d/client';

import { runTypeScript } from '../tests/support/process.js';
import {
  childNodeOptions,
  cpuMs,
  postJson,
  reportRss,
  sampleRss,
  signInNewUser,
  startBenchServer,
  type BenchServer,
} from './server-process.js';

const SECONDS = Number(process.env.BENCH_JOBS_SECONDS ?? 120);
/** Jobs run before measuring, so the figures are of a warmed-up server (JIT, pools, worker threads). */
const WARMUP_SECONDS = Number(process.env.BENCH_JOBS_WARMUP_SECONDS ?? 5);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 8);
const CLIENTS = Number(process.env.BENCH_JOB_CLIENTS ?? WORKERS);
const TARGET_JOBS_PER_SECOND = 100;
const TARGET_P50_MS = 60;

/** What the database counted (mongod's serverStatus, which the embedded database answers too). */
interface DatabaseCounts {
  /** `opcounters`: documents inserted, statements updated and deleted, finds, getMores, other commands. */
  operations: Record<string, number>;
  /** `metrics.commands`: commands (round trips) by name. */
  commands: Record<string, number>;
}

async function databaseCounts(database: MongoClient): Promise<DatabaseCounts> {
  const status = await database.db('admin').command({ serverStatus: 1 });
  const commands = status.metrics.commands as Record<string, { total: number }>;
  return {
    operations: status.opcounters as Record<string, number>,
    commands: Object.fromEntries(Object.entries(commands).map(([name, { total }]) => [name, total])),
  };
}

/** `name count` pairs per job, most first, from the growth of counters between two readings. */
function perJob(after: Record<string, number>, before: Record<string, number>, jobs: number) {
  const rows = Object.entries(after)
    .map(([name, count]) => [name, (count - (before[name] ?? 0)) / jobs] as const)
    .filter(([, count]) => count >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, count]) => sum + count, 0);
  return `${total.toFixed(1)} (${rows.map(([name, count]) => `${name} ${count.toFixed(1)}`).join(', ')})`;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

/** Finished jobs of one user as the live-update stream reports them. */
function finishedJobs(url: string, token: string) {
  const waiting = new Map<string, (job: TJob) => void>();
  const early = new Map<string, TJob>();
  const client = createGen3dClient({ url, headers: () => ({ authorization: `Bearer ${token}` }) });
  const subscription = client.generation.watch.subscribe(
    { lastEventId: String(Date.now()) },
    {
      onData: ({ data }) => {
        if (!['succeeded', 'failed', 'canceled'].includes(data.status)) return;
        const resolve = waiting.get(data.id);
        if (resolve) resolve(data);
        else early.set(data.id, data);
      },
    },
  );
  return {
    finished(jobId: string): Promise<TJob> {
      const known = early.get(jobId);
      if (known) return Promise.resolve(known);
      return new Promise((resolve) => waiting.set(jobId, resolve));
    },
    close: () => subscription.unsubscribe(),
  };
}

/**
 * Jobs end to end through the API, the queue, the workers and the reference model server at zero delay:
 * jobs/s, dispatch latency (queued -> running) and the server's memory. Each client queues a job, waits
 * for its result over the live-update stream, and queues the next.
 */
export async function benchmarkJobs(): Promise<void> {
  // The model server runs in its own process, as it would on its own machine in production.
  const modelServer = runTypeScript('server/src/model-servers/reference/main.ts', {
    MODEL_SERVER_PORT: '0',
    MODEL_SERVER_DURATION_MS: '0',
    ...childNodeOptions(),
  });
  let bench: BenchServer;
  try {
    const modelServerUrl = /http:\/\/\S+/.exec(
      await modelServer.waitForLine((line) => line.includes('listening at')),
    )?.[0] as string;
    bench = await startBenchServer(
      'jobs',
      {
        WORKER_CONCURRENCY: String(WORKERS),
        MODEL_SERVER_URL: modelServerUrl,
        MODEL_SERVER_POLL_INTERVAL_MS: '10',
        JOBS_MAX_RUNNING_PER_USER: String(WORKERS),
        JOBS_DAILY_QUOTA: '10000000',
        GENERATION_RATE_LIMIT_MAX: '100000000',
        USER_MAX_MESSAGES: '100000000',
        USER_MAX_CHATS: '100000000',
        USER_MAX_ASSET_MB: '100000000',
      },
      { built: true },
    );
  } catch (error) {
    modelServer.child.kill('SIGTERM');
    await modelServer.exited;
    throw error;
  }
  try {
    console.log(
      `\njobs (built server in production mode, database and reference model server at zero delay in their own processes; ${WORKERS} workers, ${CLIENTS} clients, ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up)`,
    );
    const tokens = await Promise.all(
      Array.from({ length: CLIENTS }, (_, index) => signInNewUser(bench.url, bench.adminToken, index)),
    );
    const streams = tokens.map((token) => finishedJobs(bench.url, token));
    const dispatch: number[] = [];
    const endToEnd: number[] = [];
    // Where the time from request to result goes (p50 of each): the create call, dispatch, the run, and
    // the wait from the job's end to its client hearing of it on the live-update stream.
    const phases = { create: [] as number[], run: [] as number[], notify: [] as number[] };
    let failed = 0;
    /** Each client queues a job, waits for its result, and queues the next until `until`. */
    const runClients = (until: number, measured: boolean) =>
      Promise.all(
        tokens.map(async (token, index) => {
          for (let round = 0; Date.now() < until; round += 1) {
            const sentAt = Date.now();
            const job = await postJson<TJob>(
              `${bench.url}/api/jobs`,
              { prompt: `${(round % 5) + 1} red cubes on a blue sphere`, params: { seed: round } },
              token,
            );
            const createdAt = Date.now();
            const done = await (streams[index] as ReturnType<typeof finishedJobs>).finished(job.id);
            const heardAt = Date.now();
            if (done.status !== 'succeeded') failed += 1;
            if (!measured) continue;
            endToEnd.push(heardAt - sentAt);
            phases.create.push(createdAt - sentAt);
            if (done.startedAt) {
              const startedAt = new Date(done.startedAt).getTime();
              dispatch.push(startedAt - new Date(done.createdAt).getTime());
              if (done.finishedAt) phases.run.push(new Date(done.finishedAt).getTime() - startedAt);
            }
            if (done.finishedAt) phases.notify.push(heardAt - new Date(done.finishedAt).getTime());
          }
        }),
      );
    await runClients(Date.now() + WARMUP_SECONDS * 1000, false);
    const rss = sampleRss(bench.server.child.pid);
    // CPU each process spends per job: on a shared machine, a steadier figure than wall-clock throughput.
    const processes = {
      server: bench.server.child.pid,
      database: bench.database.child.pid,
      'model server': modelServer.child.pid,
    };
    // The benchmark's own two readings of the counters count too: a rounding error beside ~30 commands per job.
    const database = await MongoClient.connect(bench.mongodbUri);
    const countsBefore = await databaseCounts(database);
    const cpuBefore = Object.values(processes).map(cpuMs);
    const clientCpuBefore = process.cpuUsage();
    const started = Date.now();
    await runClients(started + SECONDS * 1000, true);
    const seconds = (Date.now() - started) / 1000;
    const cpuSpent = Object.values(processes).map((pid, index) => cpuMs(pid) - (cpuBefore[index] ?? 0));
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const countsAfter = await databaseCounts(database);
    await database.close();
    cpuSpent.push((clientCpu.user + clientCpu.system) / 1000);
    for (const stream of streams) stream.close();
    dispatch.sort((a, b) => a - b);
    endToEnd.sort((a, b) => a - b);
    const perSecond = endToEnd.length / seconds;
    const p50EndToEnd = percentile(endToEnd, 0.5);
    console.log(
      `jobs end to end             ${perSecond.toFixed(1).padStart(6)} jobs/s  (${endToEnd.length} jobs, ${failed} not succeeded; target ${TARGET_JOBS_PER_SECOND}/s: ${perSecond >= TARGET_JOBS_PER_SECOND && failed === 0 ? 'met' : 'MISSED'})`,
    );
    console.log(
      `request -> result           p50 ${p50EndToEnd} ms  p99 ${percentile(endToEnd, 0.99)} ms  (target p50 ${TARGET_P50_MS} ms: ${p50EndToEnd <= TARGET_P50_MS ? 'met' : 'MISSED'})`,
    );
    const [p50, p99] = [percentile(dispatch, 0.5), percentile(dispatch, 0.99)];
    console.log(
      `dispatch (queued -> running) p50 ${p50} ms  p99 ${p99} ms  (targets 50 / 250 ms: ${p50 < 50 && p99 < 250 ? 'met' : 'MISSED'})`,
    );
    for (const samples of Object.values(phases)) samples.sort((a, b) => a - b);
    console.log(
      `phases, p50 / p99            create ${percentile(phases.create, 0.5)} / ${percentile(phases.create, 0.99)} ms, dispatch ${p50} / ${p99} ms, run ${percentile(phases.run, 0.5)} / ${percentile(phases.run, 0.99)} ms, end -> client ${percentile(phases.notify, 0.5)} / ${percentile(phases.notify, 0.99)} ms`,
    );
    const jobs = Math.max(1, endToEnd.length);
    const names = [...Object.keys(processes), 'benchmark clients'];
    console.log(
      `cpu per job                 ${names.map((name, index) => `${name} ${((cpuSpent[index] ?? 0) / jobs).toFixed(1)} ms`).join(', ')}; total ${(cpuSpent.reduce((sum, ms) => sum + ms, 0) / jobs).toFixed(1)} ms`,
    );
    console.log(`database commands per job  ${perJob(countsAfter.commands, countsBefore.commands, jobs)}`);
    console.log(
      `database operations per job ${perJob(countsAfter.operations, countsBefore.operations, jobs)}`,
    );
    reportRss(rss.stop());
  } finally {
    await bench.stop();
    modelServer.child.kill('SIGTERM');
    await modelServer.exited;
  }
}
