import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { runTypeScript, type RunningProcess } from '../tests/support/process.js';
import { freePort } from '../tests/support/redis.js';

const SECONDS = Number(process.env.BENCH_AUTH_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECRET = 'bench-secret-bench-secret-bench-secret-123';

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function report(name: string, result: Result, target?: number): void {
  const verdict = target === undefined ? '' : result.requests.average >= target ? `  (target ${target}/s: met)` : `  (target ${target}/s: MISSED)`;
  console.log(
    `${name.padEnd(28)} ${result.requests.average.toFixed(0).padStart(6)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  non-2xx ${result.non2xx}  errors ${result.errors}${verdict}`,
  );
}

async function waitUntilHealthy(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const healthy = await fetch(`${url}/health`).then((response) => response.ok, () => false);
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server at ${url} did not become healthy`);
}

async function stop(process: RunningProcess): Promise<void> {
  process.child.kill('SIGTERM');
  await process.exited;
}

async function postJson<T>(url: string, body: string, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const response = await fetch(url, { method: 'POST', headers, body });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Creates a verified account through the admin API and returns its access token. */
async function signInNewUser(url: string, adminToken: string, index: number): Promise<string> {
  const account = { email: `bench-user-${index}@example.com`, password: `bench password ${index}` };
  await postJson(`${url}/api/users`, JSON.stringify({ ...account, userName: `Bench user ${index}` }), adminToken);
  return (await postJson<{ token: string }>(`${url}/api/auth/login`, JSON.stringify(account))).token;
}

/** Login (argon2-bound) and auth.me (token-verify-bound) requests per second against a server process. */
export async function benchmarkAuth(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-bench-auth-'));
  const database = runTypeScript('server/src/db/embedded/cli.ts', { DATA_DIR: dataDir, EMBEDDED_MONGO_PORT: '0' });
  const uri = `${/mongodb:\/\/\S+/.exec(await database.waitForLine((line) => line.includes('listening at mongodb://')))?.[0]}gen3d`;
  const env = { MONGODB_URI: uri, JWT_SECRET: SECRET, PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '100000000', AUTH_RATE_LIMIT_MAX: '100000000' };
  const admin = runTypeScript('scripts/create-admin.ts', env, ['--email', 'bench@example.com', '--password', 'bench password 1']);
  if ((await admin.exited).code !== 0) throw new Error(`create-admin failed: ${admin.stderr()}`);
  // Logging at info level would measure the log pipe; warn keeps the figures about the server.
  const port = await freePort();
  const server = runTypeScript('server/src/main.ts', { ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilHealthy(url);
  try {
    const credentials = JSON.stringify({ email: 'bench@example.com', password: 'bench password 1' });
    const admin = await postJson<{ token: string }>(`${url}/api/auth/login`, credentials);
    console.log(`\nauth (server in its own process, ${CONNECTIONS} connections, one account each)`);
    const logins = await autocannon({ url: `${url}/api/auth/login`, method: 'POST', headers: { 'content-type': 'application/json' }, body: credentials, connections: 8, duration: 10 });
    report('POST /api/auth/login', logins);
    // One account per connection, so the figure is not flattered by every request asking for the same user.
    const tokens = await Promise.all(Array.from({ length: CONNECTIONS }, (_, index) => signInNewUser(url, admin.token, index)));
    let nextConnection = 0;
    const before = rssMiB(server.child.pid);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMiB(server.child.pid)), 5_000);
    const me = await autocannon({
      url: `${url}/api/auth/me`,
      connections: CONNECTIONS,
      duration: SECONDS,
      setupClient: (client) => client.setHeaders({ authorization: `Bearer ${tokens[nextConnection++ % tokens.length]}` }),
    });
    clearInterval(sampler);
    report(`GET /api/auth/me (${SECONDS} s)`, me, 3_000);
    console.log(`server rss every 5 s: ${[before, ...samples].map((mib) => mib.toFixed(0)).join(', ')} MiB`);
    // The heap saws up and down between collections; what stays after them shows in the troughs. The
    // first third is warm-up (JIT, pools, young generation sizing), so the last third's lowest reading
    // is compared with the middle third's.
    const third = Math.floor(samples.length / 3);
    if (third >= 1) {
      const growth = Math.min(...samples.slice(2 * third)) - Math.min(...samples.slice(third, 2 * third));
      console.log(`rss growth after warm-up (lowest readings): ${growth.toFixed(0)} MiB ${growth > 32 ? '(GROWING)' : '(stable)'}`);
    }
  } finally {
    await stop(server);
    await stop(database);
  }
}
