import { runTypeScript, type RunningProcess } from '../tests/support/process.js';
import { buildIfStale } from './built-server.js';
import {
  ADMIN,
  childNodeOptions,
  createBenchAdmin,
  postJson,
  rssMiB,
  startBenchDatabase,
  startServerInstance,
} from './server-process.js';
import { ActionKinds, SoakClient, SoakTally, type SoakAccount } from './soak-traffic.js';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const CLIENTS = Number(process.env.BENCH_SOAK_CLIENTS ?? 200);
/** RSS readings before this are warm-up (JIT, pools, heap sizing) and not judged. */
const WARM_UP_SECONDS = Number(process.env.BENCH_SOAK_WARMUP_SECONDS ?? Math.min(120, SECONDS / 3));
const SAMPLE_SECONDS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 30);
const THINK_MS = Number(process.env.BENCH_SOAK_THINK_MS ?? 500);
const WORKERS = Number(process.env.BENCH_SOAK_WORKERS ?? 4);
const MODEL_DELAY_MS = Number(process.env.BENCH_SOAK_MODEL_DELAY_MS ?? 200);
/** Extra Node flags for both servers, e.g. `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/x`. */
const SERVER_NODE_FLAGS = (process.env.BENCH_SOAK_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const FLAT_WITHIN_MIB = 30;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

/** Every limit and quota the traffic would otherwise meet (one address, hundreds of users, thousands of jobs). */
const LOAD_LIMITS = {
  WORKER_CONCURRENCY: String(WORKERS),
  AUTH_RATE_LIMIT_IP_MAX: '100000000',
  GENERATION_RATE_LIMIT_MAX: '100000000',
  JOBS_DAILY_QUOTA: '10000000',
  USER_MAX_MESSAGES: '100000000',
  USER_MAX_CHATS: '100000000',
  USER_MAX_ASSET_MB: '100000000',
  STREAMS_MAX_PER_ADDRESS: '100000',
  MODEL_SERVER_POLL_INTERVAL_MS: '50',
};

async function createAccounts(url: string, adminToken: string): Promise<SoakAccount[]> {
  const accounts = Array.from({ length: CLIENTS }, (_, index) => ({
    email: `soak-user-${index}@example.com`,
    password: `soak password ${index}`,
  }));
  // A few at a time: each is an argon2 hash on the server.
  for (let start = 0; start < accounts.length; start += 8) {
    await Promise.all(
      accounts
        .slice(start, start + 8)
        .map((account, offset) =>
          postJson(`${url}/api/users`, { ...account, userName: `Soak user ${start + offset}` }, adminToken),
        ),
    );
  }
  return accounts;
}

interface Watched {
  name: string;
  process: RunningProcess;
  /** Judged for flatness: the servers; the database (whose memory grows with its data) and model server are shown. */
  judged: boolean;
  readings: Array<{ atSeconds: number; mib: number }>;
}

function printRssLine(watched: Watched[], atSeconds: number): void {
  const parts = watched.map((entry) => {
    const mib = rssMiB(entry.process.child.pid);
    entry.readings.push({ atSeconds, mib });
    return `${entry.name} ${mib.toFixed(0)} MiB`;
  });
  console.log(`[${String(Math.round(atSeconds)).padStart(4)} s] rss: ${parts.join(', ')}`);
}

/**
 * Prints each process's RSS after warm-up and judges the servers'. The heap saws up and down between
 * collections (by 90 MiB under this load), so what stays shows in the troughs: the lowest reading of the
 * second half after warm-up may be at most FLAT_WITHIN_MIB above the lowest of the first half.
 */
function judgeRss(watched: Watched[]): boolean {
  let flat = true;
  for (const entry of watched) {
    const values = entry.readings
      .filter((reading) => reading.atSeconds >= WARM_UP_SECONDS)
      .map((reading) => reading.mib);
    const half = Math.floor(values.length / 2);
    if (half < 1) {
      console.log(`${entry.name}: too few readings after warm-up to judge`);
      flat &&= !entry.judged;
      continue;
    }
    const growth = Math.min(...values.slice(half)) - Math.min(...values.slice(0, half));
    const grows = growth > FLAT_WITHIN_MIB;
    const verdict = !entry.judged
      ? '(shown, not judged)'
      : `(flat within ${FLAT_WITHIN_MIB} MiB: ${grows ? 'MISSED' : 'met'})`;
    if (entry.judged && grows) flat = false;
    console.log(
      `${entry.name.padEnd(14)} rss after warm-up ${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)} MiB; lowest reading, second half vs first: ${growth >= 0 ? '+' : ''}${growth.toFixed(0)} MiB ${verdict}`,
    );
  }
  return flat;
}

/**
 * Issue 18 item 3. `BENCH_SOAK_CLIENTS` users (default 200) for `BENCH_SOAK_SECONDS` (default 600) against
 * two server instances sharing one embedded database, with the reference model server at a small delay,
 * each in its own process; the servers and the database run from their builds, the servers in production
 * mode as `pnpm start:prod` runs them (building first when the builds are stale). Users log in, read
 * (auth.me, chats, messages, jobs), create and cancel jobs, follow them on live streams (reopened now and
 * then) and download their files, half over REST and half through the client SDK, with
 * `BENCH_SOAK_THINK_MS` (default 500) pauses on average. Prints requests, errors and 5xx (must be 0),
 * p50/p99 per kind, every process's RSS every `BENCH_SOAK_SAMPLE_SECONDS` (default 30), and judges each
 * server's RSS after the warm-up (`BENCH_SOAK_WARMUP_SECONDS`, default the first 2 minutes, or the first
 * third of shorter runs) flat within 30 MiB (see judgeRss).
 */
export async function benchmarkSoak(): Promise<void> {
  await buildIfStale();
  const database = await startBenchDatabase('soak');
  const modelServer = runTypeScript('server/src/model-servers/reference/main.ts', {
    MODEL_SERVER_PORT: '0',
    MODEL_SERVER_DURATION_MS: String(MODEL_DELAY_MS),
    ...childNodeOptions(),
  });
  const stops: Array<() => Promise<void>> = [];
  try {
    const modelServerUrl = /http:\/\/\S+/.exec(
      await modelServer.waitForLine((line) => line.includes('listening at')),
    )?.[0] as string;
    await createBenchAdmin(database);
    const env = { ...LOAD_LIMITS, MODEL_SERVER_URL: modelServerUrl };
    const starts = await Promise.allSettled([
      startServerInstance(database, env, { nodeArgs: SERVER_NODE_FLAGS }),
      startServerInstance(database, env, { nodeArgs: SERVER_NODE_FLAGS }),
    ]);
    const instances = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []));
    for (const instance of instances) stops.push(instance.stop);
    for (const start of starts) if (start.status === 'rejected') throw start.reason;
    const [first, second] = instances as [(typeof instances)[0], (typeof instances)[0]];
    const { token: adminToken } = await postJson<{ token: string }>(`${first.url}/api/auth/login`, ADMIN);
    const accounts = await createAccounts(first.url, adminToken);
    console.log(
      `\nsoak (${CLIENTS} clients for ${SECONDS} s against two server instances sharing one embedded database; reference model server at ${MODEL_DELAY_MS} ms; ${WORKERS} workers per instance; ~${THINK_MS} ms pauses; warm-up: the first ${WARM_UP_SECONDS} s; each in its own process, the servers and the database built, the servers in production mode)`,
    );
    const watched: Watched[] = [
      { name: 'server A', process: first.server, judged: true, readings: [] },
      { name: 'server B', process: second.server, judged: true, readings: [] },
      { name: 'database', process: database.process, judged: false, readings: [] },
      { name: 'model server', process: modelServer, judged: false, readings: [] },
    ];
    const tally = new SoakTally();
    const started = Date.now();
    const elapsedSeconds = (): number => (Date.now() - started) / 1000;
    printRssLine(watched, 0);
    const sampler = setInterval(() => printRssLine(watched, elapsedSeconds()), SAMPLE_SECONDS * 1000);
    const clients = accounts.map(
      (account, index) =>
        new SoakClient(index % 2 === 0 ? first.url : second.url, account, index % 4 < 2, tally),
    );
    await Promise.all(clients.map((client) => client.run(() => elapsedSeconds() >= SECONDS, THINK_MS)));
    clearInterval(sampler);
    printRssLine(watched, elapsedSeconds());
    const seconds = elapsedSeconds();

    console.log(
      `requests ${tally.requests} (${(tally.requests / seconds).toFixed(0)}/s), errors ${tally.errors}, 5xx ${tally.serverErrors} (must be 0: ${tally.serverErrors === 0 ? 'met' : 'MISSED'}), cancels after the job ended ${tally.lateCancels} (expected, 400 JOB_FINISHED)`,
    );
    for (const sample of tally.errorSamples) console.log(`  error: ${sample}`);
    for (const kind of ActionKinds) {
      const latencies = (tally.latencies.get(kind) ?? []).sort((a, b) => a - b);
      console.log(
        `${kind.padEnd(16)} ${String(latencies.length).padStart(7)}  p50 ${percentile(latencies, 0.5).toFixed(1).padStart(7)} ms  p99 ${percentile(latencies, 0.99).toFixed(1).padStart(8)} ms`,
      );
    }
    const flat = judgeRss(watched);
    console.log(
      `verdict: 5xx ${tally.serverErrors === 0 ? 'none' : 'SOME'}, server RSS ${flat ? 'flat' : 'NOT flat'}`,
    );
  } finally {
    await Promise.all(stops.map((stop) => stop()));
    modelServer.child.kill('SIGTERM');
    await Promise.all([database.stop(), modelServer.exited]);
  }
}
