import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { logLine, runTypeScript } from '../tests/support/process.js';
import { freePort } from '../tests/support/redis.js';
import { buildIfStale, runBuiltServer } from './built-server.js';
import { removeDataDir, rssMiB } from './server-process.js';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 3);
// Start-up leaves V8's young generation grown. The server, run with --expose-gc as the start commands run it,
// gives that back with one memory-reducing collection 5 s after listening (Node 22+; Node 20's V8 has no such
// collection, and shrinks it by itself 30-40 s after ready). An idle server's footprint is what it holds
// after that: the last reading.
const IDLE_SECONDS = Number(process.env.BENCH_STARTUP_IDLE_SECONDS ?? 60);
const IDLE_SAMPLE_SECONDS = 10;
const READY_TARGET_MS = 2_000;
const IDLE_RSS_TARGET_MIB = 150;

async function answersReady(url: string): Promise<boolean> {
  return fetch(`${url}/ready`).then(
    async (response) => {
      await response.arrayBuffer();
      return response.status === 200;
    },
    () => false,
  );
}

interface StartupFigures {
  listeningMs: number | undefined;
  readyMs: number;
  rssAtReadyMiB: number;
  /** RSS every IDLE_SAMPLE_SECONDS while idling; the last is the idle footprint. */
  rssIdleMiB: number[];
}

/**
 * One start of the built server as `pnpm start:prod` runs it (node directly, no pnpm or tsx wrapper),
 * in production mode against the database at `mongodbUri`: process start -> first 200 from /ready,
 * then its RSS after idling.
 */
async function measureOneStart(mongodbUri: string, dataDir: string): Promise<StartupFigures> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = Date.now();
  const started = performance.now();
  const server = runBuiltServer({
    NODE_ENV: 'production',
    MONGODB_URI: mongodbUri,
    PORT: String(port),
    PUBLIC_URL: url,
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(48).toString('base64'),
    CORS_ORIGINS: 'https://app.example.com',
    METRICS_TOKEN: randomBytes(32).toString('hex'),
    // Never contacted while the server idles; production insists on an SMTP server.
    SMTP_URL: 'smtp://127.0.0.1:2525',
    MODEL_SERVER_PORT: '0',
  });
  try {
    // Polling before the server listens would take CPU from its start on a small machine: the log says when.
    const listening = logLine(
      await server.waitForLine((line) => logLine(line)?.msg === 'gen3d is listening', 60_000),
    );
    while (!(await answersReady(url))) await new Promise((resolve) => setTimeout(resolve, 10));
    const readyMs = performance.now() - started;
    const rssAtReadyMiB = rssMiB(server.child.pid);
    const rssIdleMiB: number[] = [];
    for (let idle = 0; idle < IDLE_SECONDS; idle += IDLE_SAMPLE_SECONDS) {
      const seconds = Math.min(IDLE_SAMPLE_SECONDS, IDLE_SECONDS - idle);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      rssIdleMiB.push(rssMiB(server.child.pid));
    }
    return {
      listeningMs: typeof listening?.time === 'number' ? listening.time - spawnedAt : undefined,
      readyMs,
      rssAtReadyMiB,
      rssIdleMiB,
    };
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
};

/**
 * Start-up and idle footprint of the built server (`pnpm start:prod`) against an external database (the
 * embedded server started on its own, as `pnpm db` does): time from process start to the first 200 from
 * `/ready`, and the resident memory after `BENCH_STARTUP_IDLE_SECONDS` of idling, over `BENCH_STARTUP_RUNS`
 * starts. The medians are judged against the targets.
 */
export async function benchmarkStartup(): Promise<void> {
  if (!(IDLE_SECONDS > 0)) throw new Error('BENCH_STARTUP_IDLE_SECONDS must be a number of seconds above 0');
  await buildIfStale();
  const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-bench-startup-'));
  const database = runTypeScript('embedded-mongo/src/cli.ts', { DATA_DIR: dataDir, EMBEDDED_DB_PORT: '0' });
  try {
    const uri = `${/mongodb:\/\/\S+/.exec(await database.waitForLine((line) => line.includes('listening at mongodb://')))?.[0]}gen3d`;
    console.log(
      `\nstart-up (built server, node --expose-gc --conditions=production server/dist/main.js, NODE_ENV=production, external database in its own process; ${RUNS} starts, RSS after ${IDLE_SECONDS} s idle)`,
    );
    const runs: StartupFigures[] = [];
    for (let run = 1; run <= RUNS; run += 1) {
      const figures = await measureOneStart(uri, dataDir);
      runs.push(figures);
      console.log(
        `start ${run}: listening after ${figures.listeningMs ?? '?'} ms, /ready 200 after ${figures.readyMs.toFixed(0)} ms; rss ${figures.rssAtReadyMiB.toFixed(0)} MiB at ready, then every ${IDLE_SAMPLE_SECONDS} s idle: ${figures.rssIdleMiB.map((mib) => mib.toFixed(0)).join(', ')} MiB`,
      );
    }
    const readyMs = median(runs.map((figures) => figures.readyMs));
    const idleMiB = median(runs.map((figures) => figures.rssIdleMiB.at(-1) ?? figures.rssAtReadyMiB));
    console.log(
      `process start -> /ready 200 (median)  ${readyMs.toFixed(0)} ms  (target <= ${READY_TARGET_MS} ms: ${readyMs <= READY_TARGET_MS ? 'met' : 'MISSED'})`,
    );
    console.log(
      `rss after ${IDLE_SECONDS} s idle (median)      ${idleMiB.toFixed(0)} MiB  (target < ${IDLE_RSS_TARGET_MIB} MiB: ${idleMiB < IDLE_RSS_TARGET_MIB ? 'met' : 'MISSED'})`,
    );
  } finally {
    database.child.kill('SIGTERM');
    await database.exited;
    removeDataDir(dataDir);
  }
}
