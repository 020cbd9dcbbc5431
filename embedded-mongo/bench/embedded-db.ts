import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mongoose, { Schema, type Types } from 'mongoose';

import { formatThroughput, measureThroughput } from '../../bench/measure.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CLAIM_BACKLOG = Number(process.env.BENCH_CLAIM_BACKLOG ?? 2_000);
/** A directory for a CPU profile of the server process (node --cpu-prof), when set. */
const SERVER_CPU_PROFILE_DIR = process.env.BENCH_SERVER_CPU_PROF_DIR;

/** Issue 18's targets, the same in memory and durable. */
const TARGETS = { inserts: 5_000, findById: 10_000, claims: 3_000 } as const;

const JobSchema = new Schema({
  owner: String,
  prompt: String,
  status: { type: String, index: true },
  lease: String,
  createdAt: { type: Date, default: () => new Date() },
});

interface ServerProcess {
  uri: string;
  /** CPU time (user + system, µs) the server process has used so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

async function startServerProcess(dataDir: string | undefined): Promise<ServerProcess> {
  const profiling = SERVER_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${SERVER_CPU_PROFILE_DIR}`] : [];
  const child = fork(new URL('./embedded-db-process.ts', import.meta.url), {
    execArgv: ['--import', 'tsx', ...profiling],
    env: { ...process.env, BENCH_DATA_DIR: dataDir ?? '' },
  });
  const uri = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { uri: string }) => resolve(message.uri));
    child.once('error', reject);
  });
  return {
    uri,
    cpuMicros: async () => {
      const reply = new Promise<NodeJS.CpuUsage>((resolve) => {
        const onMessage = (message: { cpu?: NodeJS.CpuUsage }): void => {
          if (!message.cpu) return;
          child.off('message', onMessage);
          resolve(message.cpu);
        };
        child.on('message', onMessage);
      });
      child.send('cpu');
      const { user, system } = await reply;
      return user + system;
    },
    stop: async () => {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/**
 * Runs one figure and prints it with the server's CPU time per operation, a figure that moves less than
 * throughput when other processes share the cores.
 */
async function measureFigure(
  server: ServerProcess,
  name: string,
  target: number,
  operation: (iteration: number) => Promise<unknown>,
): Promise<void> {
  const cpuBefore = await server.cpuMicros();
  const result = await measureThroughput(CONCURRENCY, DURATION_MS, operation);
  const cpuPerOperation = ((await server.cpuMicros()) - cpuBefore) / Math.max(1, result.operations);
  console.log(`${formatThroughput(name, result, target)}  server CPU ${cpuPerOperation.toFixed(0)} µs/op`);
}

async function benchmarkOne(label: string, dataDir: string | undefined): Promise<void> {
  const server = await startServerProcess(dataDir);
  const connection = await mongoose
    .createConnection(`${server.uri}bench`, { maxPoolSize: CONCURRENCY })
    .asPromise();
  const Job = connection.model('Job', JobSchema);
  await Job.init();
  console.log(`\nembedded database, ${label} (concurrency ${CONCURRENCY}, ${DURATION_MS} ms per figure)`);

  const ids: Types.ObjectId[] = [];
  await measureFigure(server, 'inserts (Model.create)', TARGETS.inserts, async (iteration) => {
    const job = await Job.create({
      owner: `user-${iteration % 50}`,
      prompt: `a red fox number ${iteration}`,
      status: 'queued',
    });
    ids.push(job._id);
  });

  await measureFigure(server, 'findById', TARGETS.findById, async (iteration) => {
    const id = ids[(iteration * 7919) % ids.length];
    const job = await Job.findById(id).lean();
    if (!job) throw new Error('missing job');
  });

  const Queue = connection.model('QueuedJob', JobSchema);
  await Queue.init();
  await Queue.insertMany(
    Array.from({ length: CLAIM_BACKLOG }, (_, index) => ({
      owner: `user-${index % 50}`,
      prompt: `job ${index}`,
      status: 'queued',
      createdAt: new Date(Date.now() + index),
    })),
  );
  await measureFigure(
    server,
    `atomic claims (backlog ${CLAIM_BACKLOG})`,
    TARGETS.claims,
    async (iteration) => {
      const claimed = await Queue.findOneAndUpdate(
        { status: 'queued' },
        { $set: { status: 'running', lease: `worker-${iteration % CONCURRENCY}` } },
        { sort: { createdAt: 1 }, returnDocument: 'after' },
      ).lean();
      return claimed !== null;
    },
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
