import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mongoose, { Schema, type Types } from 'mongoose';

import { formatThroughput, measureThroughput } from '../../bench/measure.js';
import { startEmbeddedServerProcess, type EmbeddedServerProcess } from './server-process.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CLAIM_BACKLOG = Number(process.env.BENCH_CLAIM_BACKLOG ?? 2_000);
/** Jobs queued beyond the backlog, the most a figure claims: every claim chooses among at least CLAIM_BACKLOG. */
const CLAIMS_AT_MOST = Number(process.env.BENCH_CLAIMS_AT_MOST ?? 20_000);
/** Unmeasured operations of each kind before the figures, so that they measure compiled code. */
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1_000);
/** A directory for a CPU profile of the server process (node --cpu-prof), when set. */
const SERVER_CPU_PROFILE_DIR = process.env.BENCH_SERVER_CPU_PROF_DIR;

/** Issue 18's targets, the same in memory and durable. */
const TARGETS = { inserts: 5_000, findById: 10_000, claims: 3_000 } as const;

const JobSchema = new Schema({
  owner: String,
  prompt: String,
  status: String,
  fairRank: { type: Number, default: 0 },
  lease: String,
  createdAt: { type: Date, default: () => new Date() },
});
// The app's claim index (server/src/jobs/job-model.ts): the queued jobs in claim order.
JobSchema.index({ status: 1, fairRank: 1, createdAt: 1, _id: 1 });

/**
 * Runs one figure and prints it with the CPU time per operation of the server process and of this one
 * (mongoose and the driver), figures that move less than throughput when other processes share the cores.
 */
async function measureFigure(
  server: EmbeddedServerProcess,
  name: string,
  target: number,
  operation: (iteration: number) => Promise<unknown>,
): Promise<void> {
  const serverBefore = await server.cpuMicros();
  const clientBefore = process.cpuUsage();
  const result = await measureThroughput(CONCURRENCY, DURATION_MS, operation);
  const client = process.cpuUsage(clientBefore);
  const operations = Math.max(1, result.operations);
  const serverPerOperation = ((await server.cpuMicros()) - serverBefore) / operations;
  const clientPerOperation = (client.user + client.system) / operations;
  console.log(
    `${formatThroughput(name, result, target)}  CPU per op: server ${serverPerOperation.toFixed(0)} µs, client ${clientPerOperation.toFixed(0)} µs`,
  );
}

async function benchmarkOne(label: string, dataDir: string | undefined): Promise<void> {
  const server = await startEmbeddedServerProcess(dataDir, SERVER_CPU_PROFILE_DIR);
  const connection = await mongoose
    .createConnection(`${server.uri}bench`, { maxPoolSize: CONCURRENCY })
    .asPromise();
  const Job = connection.model('Job', JobSchema);
  await Job.init();
  console.log(
    `\nembedded database, ${label} (concurrency ${CONCURRENCY}, ${DURATION_MS} ms per figure after ${WARMUP_MS} ms of warm-up)`,
  );

  const ids: Types.ObjectId[] = [];
  const insert = async (iteration: number): Promise<void> => {
    const job = await Job.create({
      owner: `user-${iteration % 50}`,
      prompt: `a red fox number ${iteration}`,
      status: 'queued',
    });
    ids.push(job._id);
  };
  const read = async (iteration: number): Promise<void> => {
    const id = ids[(iteration * 7919) % ids.length];
    const job = await Job.findById(id).lean();
    if (!job) throw new Error('missing job');
  };
  /** Claims the first queued job in claim order, until `atMost` are claimed (or none is left). */
  const claimFrom = (queue: typeof Job, atMost: number) => {
    let started = 0;
    return async (iteration: number): Promise<boolean> => {
      started += 1;
      const claimed = await queue
        .findOneAndUpdate(
          { status: 'queued' },
          { $set: { status: 'running', lease: `worker-${iteration % CONCURRENCY}` } },
          { sort: { fairRank: 1, createdAt: 1, _id: 1 }, returnDocument: 'after' },
        )
        .lean();
      return claimed !== null && started < atMost;
    };
  };
  const fillQueue = async (queue: typeof Job, count: number): Promise<void> => {
    await queue.init();
    await queue.insertMany(
      Array.from({ length: count }, (_, index) => ({
        owner: `user-${index % 50}`,
        prompt: `job ${index}`,
        status: 'queued',
        createdAt: new Date(Date.now() + index),
      })),
    );
  };

  // Unmeasured rounds first, so the figures are not those of code still being compiled.
  const WarmupQueue = connection.model('WarmupJob', JobSchema);
  await fillQueue(WarmupQueue, CLAIM_BACKLOG + 2_000);
  await measureThroughput(CONCURRENCY, WARMUP_MS, insert);
  await measureThroughput(CONCURRENCY, WARMUP_MS, read);
  await measureThroughput(CONCURRENCY, WARMUP_MS, claimFrom(WarmupQueue, 2_000));

  await measureFigure(server, 'inserts (Model.create)', TARGETS.inserts, insert);
  await measureFigure(server, 'findById', TARGETS.findById, read);
  const Queue = connection.model('QueuedJob', JobSchema);
  await fillQueue(Queue, CLAIM_BACKLOG + CLAIMS_AT_MOST);
  await measureFigure(
    server,
    `atomic claims (backlog >= ${CLAIM_BACKLOG})`,
    TARGETS.claims,
    claimFrom(Queue, CLAIMS_AT_MOST),
  );

  console.log(`client process rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);
  await connection.close();
  await server.stop();
}

/** Inserts, findById and queue claims per second through mongoose against the embedded server. */
export async function benchmarkEmbeddedDatabase(): Promise<void> {
  await benchmarkOne('in memory', undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-bench-'));
  try {
    await benchmarkOne('durable (DATA_DIR, fsync before acknowledging)', dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
