import { isDeepStrictEqual } from 'node:util';

import autocannon, { type Result } from 'autocannon';

import { runTypeScript } from '../tests/support/process.js';
import { freePort } from '../tests/support/redis.js';
import {
  ADMIN,
  BENCH_JWT_SECRET,
  reportRss,
  rssMiB,
  sampleRss,
  signInNewUser,
  startBenchServer,
} from './server-process.js';

/** Measured seconds per target, split into BENCH_AUTH_ROUNDS alternating segments. */
const SECONDS = Number(process.env.BENCH_AUTH_SECONDS ?? 30);
const ROUNDS = Math.max(1, Number(process.env.BENCH_AUTH_ROUNDS ?? 3));
const WARM_UP_SECONDS = Number(process.env.BENCH_AUTH_WARM_UP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TARGET_RATIO = 0.9;
const TARGET_P99_FACTOR = 1.5;

/** autocannon's merge of runs made with `skipAggregateResult` (untyped in @types/autocannon). */
const aggregateResult = (
  autocannon as unknown as {
    aggregateResult(results: Result[], options: { url: string; connections: number }): Result;
  }
).aggregateResult;

interface Target {
  name: string;
  url: string;
  /** The account view in the target's answer. */
  accountOf(body: unknown): unknown;
}

interface Totals {
  requests: number;
  seconds: number;
  non2xx: number;
  errors: number;
  runs: Result[];
}

function perSecond(totals: Pick<Totals, 'requests' | 'seconds'>): number {
  return totals.requests / totals.seconds;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/**
 * Logins per second (argon2-bound), as before the floor comparison, and the server's RSS before and after
 * them: the allocator keeps each thread's 19 MiB of argon2 memory for the next hashes.
 */
async function benchmarkLogins(url: string, serverPid: number | undefined): Promise<void> {
  const rssBefore = rssMiB(serverPid);
  const logins = await autocannon({
    url: `${url}/api/auth/login`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
    connections: 8,
    duration: 10,
  });
  console.log(
    `${'POST /api/auth/login'.padEnd(34)} ${logins.requests.average.toFixed(0).padStart(6)} req/s  p50 ${logins.latency.p50} ms  p99 ${logins.latency.p99} ms  non-2xx ${logins.non2xx}`,
  );
  console.log(
    `server rss ${rssBefore.toFixed(0)} MiB before the logins, ${rssMiB(serverPid).toFixed(0)} MiB after`,
  );
}

/** Every target answers the same account for the same token, so they are doing the same work. */
async function checkSameAnswers(targets: Target[], token: string): Promise<void> {
  const accounts = await Promise.all(
    targets.map(async (target) => {
      const response = await fetch(target.url, { headers: { authorization: `Bearer ${token}` } });
      if (!response.ok)
        throw new Error(`${target.name} answered ${response.status}: ${await response.text()}`);
      return target.accountOf(await response.json());
    }),
  );
  for (const [index, account] of accounts.entries())
    if (!isDeepStrictEqual(account, accounts[0]))
      throw new Error(`${targets[index]?.name} answers a different account than ${targets[0]?.name}`);
}

function load(target: Target, tokens: string[], seconds: number): Promise<Result> {
  let nextConnection = 0;
  return autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    skipAggregateResult: true,
    setupClient: (client) =>
      client.setHeaders({ authorization: `Bearer ${tokens[nextConnection++ % tokens.length]}` }),
  });
}

/** Raw (skipAggregateResult) runs keep counters; the histograms are merged by aggregateResult. */
function completedRequests(run: Result): number {
  return (run as Result & { totalCompletedRequests: number }).totalCompletedRequests;
}

/**
 * Login (argon2-bound) requests per second, then auth.me over REST and tRPC against a floor server
 * (bench/auth-floor.ts) on the same database, in alternating segments so machine load weighs on each alike.
 */
export async function benchmarkAuth(): Promise<void> {
  const bench = await startBenchServer('auth', { WORKER_CONCURRENCY: '0' });
  const { url } = bench;
  const floorPort = await freePort();
  const floor = runTypeScript('bench/auth-floor.ts', {
    MONGODB_URI: bench.mongodbUri,
    JWT_SECRET: BENCH_JWT_SECRET,
    PORT: String(floorPort),
  });
  try {
    await floor.waitForLine((line) => line.startsWith('floor listening at'));
    console.log(`\nauth (servers in their own processes, ${CONNECTIONS} connections, one account each)`);
    await benchmarkLogins(url, bench.server.child.pid);
    // One account per connection, so the figure is not flattered by every request asking for the same user.
    const tokens = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, index) => signInNewUser(url, bench.adminToken, index)),
    );
    const floorTarget: Target = {
      name: 'floor GET /api/auth/me',
      url: `http://127.0.0.1:${floorPort}/api/auth/me`,
      accountOf: (body) => body,
    };
    const targets: Target[] = [
      floorTarget,
      { name: 'REST GET /api/auth/me', url: `${url}/api/auth/me`, accountOf: (body) => body },
      {
        name: 'tRPC auth.me',
        url: `${url}/trpc/auth.me`,
        accountOf: (body) => (body as { result: { data: unknown } }).result.data,
      },
    ];
    await checkSameAnswers(targets, tokens[0] ?? '');
    for (const target of targets) await load(target, tokens, WARM_UP_SECONDS);

    const totals = new Map<Target, Totals>(
      targets.map((target) => [target, { requests: 0, seconds: 0, non2xx: 0, errors: 0, runs: [] }]),
    );
    const rss = sampleRss(bench.server.child.pid);
    const segmentSeconds = SECONDS / ROUNDS;
    for (let round = 0; round < ROUNDS; round += 1) {
      // The order turns each round, so no target always follows the same one.
      const order = targets.map((_, index) => targets[(index + round) % targets.length] as Target);
      const figures: string[] = [];
      for (const target of order) {
        const run = await load(target, tokens, segmentSeconds);
        const total = totals.get(target) as Totals;
        total.requests += completedRequests(run);
        total.seconds += run.duration;
        total.non2xx += run.non2xx;
        total.errors += run.errors;
        total.runs.push(run);
        figures.push(`${target.name} ${(completedRequests(run) / run.duration).toFixed(0)}/s`);
      }
      console.log(`  round ${round + 1}: ${figures.join(', ')}`);
    }
    const rssSamples = rss.stop();

    const floorTotals = totals.get(floorTarget) as Totals;
    const floorLatency = aggregateResult(floorTotals.runs, {
      url: floorTarget.url,
      connections: CONNECTIONS,
    }).latency;
    for (const target of targets) {
      const total = totals.get(target) as Totals;
      const { latency } = aggregateResult(total.runs, { url: target.url, connections: CONNECTIONS });
      let line = `${target.name.padEnd(34)} ${perSecond(total).toFixed(0).padStart(6)} req/s  p50 ${latency.p50} ms  p99 ${latency.p99} ms  non-2xx ${total.non2xx}  errors ${total.errors}`;
      if (target !== floorTarget) {
        const ratio = perSecond(total) / perSecond(floorTotals);
        const p99Limit = floorLatency.p99 * TARGET_P99_FACTOR;
        line += `\n${''.padEnd(36)}${ratio.toFixed(2)}x the floor (target >= ${TARGET_RATIO}x: ${verdict(ratio >= TARGET_RATIO)}), p99 ${latency.p99} ms (target <= floor ${floorLatency.p99} ms x ${TARGET_P99_FACTOR} = ${p99Limit} ms: ${verdict(latency.p99 <= p99Limit)})`;
      }
      console.log(line);
    }
    console.log(
      `(${SECONDS} s per target in ${ROUNDS} alternating segments, after ${WARM_UP_SECONDS} s of warm-up each)`,
    );
    reportRss(rssSamples);
  } finally {
    floor.child.kill('SIGTERM');
    await floor.exited;
    await bench.stop();
  }
}
