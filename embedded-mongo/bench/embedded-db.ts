import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mongoose, { Schema, type Types } from 'mongoose';

import { formatThroughput, measureThroughput } from '../../bench/measure.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CLAIM_BACKLOG = Number(process.env.BENCH_CLAIM_BACKLOG ?? 2_000);

const JobSchema = new Schema({
  owner: String,
  prompt: String,
  status: { type: String, index: true },
  lease: String,
  createdAt: { type: Date, default: () => new Date() },
});

async function startServerProcess(
  dataDir: string | undefined,
): Promise<{ uri: string; stop(): Promise<void> }> {
  const child = fork(new URL('./embedded-db-process.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_DATA_DIR: dataDir ?? '' },
  });
  const uri = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { uri: string }) => resolve(message.uri));
    child.once('error', reject);
  });
  return {
    uri,
    stop: async () => {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
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
  const inserts = await measureThroughput(CONCURRENCY, DURATION_MS, async (iteration) => {
    const job = await Job.create({
      owner: `user-${iteration % 50}`,
      prompt: `a red fox number ${iteration}`,
      status: 'queued',
    });
    ids.push(job._id);
  });
  console.log(formatThroughput('inserts (Model.create)', inserts, 2_000));

  const reads = await measureThroughput(CONCURRENCY, DURATION_MS, async (iteration) => {
    const id = ids[(iteration * 7919) % ids.length];
    const job = await Job.findById(id).lean();
    if (!job) throw new Error('missing job');
  });
  console.log(formatThroughput('findById', reads, 5_000));

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
  const claims = await measureThroughput(CONCURRENCY, DURATION_MS, async (iteration) => {
    const claimed = await Queue.findOneAndUpdate(
      { status: 'queued' },
      { $set: { status: 'running', lease: `worker-${iteration % CONCURRENCY}` } },
      { sort: { createdAt: 1 }, returnDocument: 'after' },
    ).lean();
    return claimed !== null;
  });
  console.log(formatThroughput(`atomic claims (backlog ${CLAIM_BACKLOG})`, claims));

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
