import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runTypeScript, type RunningProcess } from '../tests/support/process.js';
import { freePort } from '../tests/support/redis.js';
import { buildIfStale, productionEnv, runBuiltDatabase, runBuiltServer } from './built-server.js';

/** Linux's USER_HZ, the unit of /proc/<pid>/stat times (100 on every mainstream architecture). */
const CLOCK_TICKS_PER_SECOND = 100;
export const BENCH_JWT_SECRET = 'bench-secret-bench-secret-bench-secret-123';
export const ADMIN = { email: 'bench@example.com', password: 'bench password 1' };

export interface BenchServer {
  url: string;
  /** The server's database, for loading fixtures directly. */
  mongodbUri: string;
  server: RunningProcess;
  database: RunningProcess;
  adminToken: string;
  stop(): Promise<void>;
}

/**
 * NODE_OPTIONS for the processes a benchmark starts, from BENCH_NODE_OPTIONS: e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/profiles` profiles each of them.
 */
export function childNodeOptions(): Record<string, string> {
  const options = process.env.BENCH_NODE_OPTIONS;
  return options ? { NODE_OPTIONS: options } : {};
}

/** CPU time (user + system, all threads) a process has used so far, in ms. */
export function cpuMs(pid: number | undefined): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export async function postJson<T>(url: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Creates a verified account through the admin API and returns its access token. */
export async function signInNewUser(url: string, adminToken: string, index: number): Promise<string> {
  const account = { email: `bench-user-${index}@example.com`, password: `bench password ${index}` };
  await postJson(`${url}/api/users`, { ...account, userName: `Bench user ${index}` }, adminToken);
  return (await postJson<{ token: string }>(`${url}/api/auth/login`, account)).token;
}

async function stopProcess(process: RunningProcess): Promise<void> {
  process.child.kill('SIGTERM');
  await process.exited;
}

/** A benchmark's database and asset files run to hundreds of MiB; none of them is kept. */
export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * The embedded database and the server, each in its own process as in production, with an admin made
 * by create-admin and signed in. Logging stays at warn: info lines would measure the log pipe. `built`
 * runs both from their builds, the server in production mode as `pnpm start:prod` does (building first
 * when the builds are stale); otherwise they run from the sources through tsx.
 */
export async function startBenchServer(
  name: string,
  env: Record<string, string>,
  { built = false }: { built?: boolean } = {},
): Promise<BenchServer> {
  if (built) await buildIfStale();
  const database = await startBenchDatabase(name, { built });
  try {
    await createBenchAdmin(database);
    const instance = await startServerInstance(database, env, { built });
    const stop = async (): Promise<void> => {
      await instance.stop();
      await database.stop();
    };
    try {
      const { token } = await postJson<{ token: string }>(`${instance.url}/api/auth/login`, ADMIN);
      return {
        url: instance.url,
        mongodbUri: database.uri,
        server: instance.server,
        database: database.process,
        adminToken: token,
        stop,
      };
    } catch (error) {
      await instance.stop();
      throw error;
    }
  } catch (error) {
    await database.stop();
    throw error;
  }
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(pid: number | undefined, everyMs = 5_000): { stop(): number[] } {
  const samples = [rssMiB(pid)];
  const timer = setInterval(() => samples.push(rssMiB(pid)), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * Prints the samples and whether memory grows. The heap saws up and down between collections; what
 * stays after them shows in the troughs. The first third is warm-up (JIT, pools, young generation
 * sizing), so the last third's lowest reading is compared with the middle third's.
 */
export function reportRss(samples: number[]): void {
  console.log(`server rss every 5 s: ${samples.map((mib) => mib.toFixed(0)).join(', ')} MiB`);
  const readings = samples.slice(1);
  const third = Math.floor(readings.length / 3);
  if (third < 1) return;
  const growth = Math.min(...readings.slice(2 * third)) - Math.min(...readings.slice(third, 2 * third));
  console.log(
    `rss growth after warm-up (lowest readings): ${growth.toFixed(0)} MiB ${growth > 32 ? '(GROWING)' : '(stable)'}`,
  );
}

export interface BenchDatabase {
  uri: string;
  /** DATA_DIR shared by the database and the servers using it (asset files live there too). */
  dataDir: string;
  process: RunningProcess;
  /** Stops the database and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * The embedded database alone in its own process, for servers started separately: from its build as
 * `pnpm db` would run it (call buildIfStale first), or from its sources through tsx when not `built`.
 */
export async function startBenchDatabase(
  name: string,
  { built = true }: { built?: boolean } = {},
): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), `gen3d-bench-${name}-`));
  const env = { DATA_DIR: dataDir, EMBEDDED_DB_PORT: '0', ...childNodeOptions() };
  const database = built ? runBuiltDatabase(env) : runTypeScript('embedded-mongo/src/cli.ts', env);
  const stop = async (): Promise<void> => {
    await stopProcess(database);
    removeDataDir(dataDir);
  };
  try {
    const line = await database.waitForLine((text) => text.includes('listening at mongodb://'));
    return { uri: `${/mongodb:\/\/\S+/.exec(line)?.[0]}gen3d`, dataDir, process: database, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Settings every bench server of one database shares: its address, the secret, quiet logs, no global limits. */
export function benchServerEnv(database: BenchDatabase, env: Record<string, string>): Record<string, string> {
  return {
    MONGODB_URI: database.uri,
    JWT_SECRET: BENCH_JWT_SECRET,
    DATA_DIR: database.dataDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '100000000',
    AUTH_RATE_LIMIT_MAX: '100000000',
    ...env,
  };
}

/** Makes the bench admin with create-admin (once per database). */
export async function createBenchAdmin(database: BenchDatabase): Promise<void> {
  const admin = runTypeScript('scripts/create-admin.ts', benchServerEnv(database, {}), [
    '--email',
    ADMIN.email,
    '--password',
    ADMIN.password,
  ]);
  if ((await admin.exited).code !== 0) throw new Error(`create-admin failed: ${admin.stderr()}`);
}

/** Resolves once the server at `url` answers `/health`; rejects when its process exits or a minute passes. */
async function waitUntilHealthy(url: string, server: RunningProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (
      await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      )
    )
      return;
    if (server.child.exitCode !== null || server.child.signalCode !== null)
      throw new Error(`the server exited: ${server.output()}`);
    if (Date.now() > deadline) throw new Error(`the server did not become healthy: ${server.output()}`);
    await new Promise((wait) => setTimeout(wait, 100));
  }
}

/**
 * One more server process on an existing database (several make a multi-instance deployment): from its
 * build in production mode as `pnpm start:prod` runs it (call buildIfStale first), or from its sources
 * through tsx when not `built`. Resolves once `/health` answers; `nodeArgs` go to Node before the built
 * entry (e.g. `--heapsnapshot-signal=SIGUSR2`).
 */
export async function startServerInstance(
  database: BenchDatabase,
  env: Record<string, string>,
  { built = true, nodeArgs = [] }: { built?: boolean; nodeArgs?: string[] } = {},
): Promise<{ url: string; server: RunningProcess; stop(): Promise<void> }> {
  if (!built && nodeArgs.length > 0) throw new Error('nodeArgs apply to the built server only');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverEnv = {
    ...benchServerEnv(database, { PORT: String(port), PUBLIC_URL: url, MODEL_SERVER_PORT: '0', ...env }),
    ...childNodeOptions(),
  };
  const server = built
    ? runBuiltServer({ ...serverEnv, ...productionEnv(url) }, nodeArgs)
    : runTypeScript('server/src/main.ts', serverEnv);
  const stop = (): Promise<void> => stopProcess(server);
  try {
    await waitUntilHealthy(url, server);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, server, stop };
}
