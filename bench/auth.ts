import autocannon, { type Result } from 'autocannon';

import { ADMIN, reportRss, sampleRss, signInNewUser, startBenchServer } from './server-process.js';

const SECONDS = Number(process.env.BENCH_AUTH_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

function report(name: string, result: Result, target?: number): void {
  const verdict =
    target === undefined
      ? ''
      : result.requests.average >= target
        ? `  (target ${target}/s: met)`
        : `  (target ${target}/s: MISSED)`;
  console.log(
    `${name.padEnd(28)} ${result.requests.average.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  non-2xx ${result.non2xx}  errors ${result.errors}${verdict}`,
  );
}

/** Login (argon2-bound) and auth.me (token-verify-bound) requests per second against a server process. */
export async function benchmarkAuth(): Promise<void> {
  const bench = await startBenchServer('auth', { WORKER_CONCURRENCY: '0' });
  const { url } = bench;
  try {
    console.log(`\nauth (server in its own process, ${CONNECTIONS} connections, one account each)`);
    const logins = await autocannon({
      url: `${url}/api/auth/login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
      connections: 8,
      duration: 10,
    });
    report('POST /api/auth/login', logins);
    // One account per connection, so the figure is not flattered by every request asking for the same user.
    const tokens = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, index) => signInNewUser(url, bench.adminToken, index)),
    );
    let nextConnection = 0;
    const rss = sampleRss(bench.server.child.pid);
    const me = await autocannon({
      url: `${url}/api/auth/me`,
      connections: CONNECTIONS,
      duration: SECONDS,
      setupClient: (client) =>
        client.setHeaders({ authorization: `Bearer ${tokens[nextConnection++ % tokens.length]}` }),
    });
    report(`GET /api/auth/me (${SECONDS} s)`, me, 3_000);
    reportRss(rss.stop());
  } finally {
    await bench.stop();
  }
}
