import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { repositoryRoot, runNode, runPnpm, type RunningProcess } from '../tests/support/process.js';

/** The server as `pnpm start:prod` runs it. */
export const BUILT_SERVER_ENTRY = join(repositoryRoot, 'server/dist/main.js');
/** The embedded database's own entry, built. */
const BUILT_DATABASE_ENTRY = join(repositoryRoot, 'embedded-mongo/dist/cli.js');
/** The sources the built server is compiled from (the server resolves the workspace packages to their dist). */
const SOURCE_DIRECTORIES = ['server/src', 'shared/src', 'embedded-mongo/src'];

function newestModification(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestModification(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds the workspace when a built entry is missing or older than a source it is compiled from. */
export async function buildIfStale(): Promise<void> {
  const builtAt = Math.min(modifiedAt(BUILT_SERVER_ENTRY), modifiedAt(BUILT_DATABASE_ENTRY));
  const sourcesAt = Math.max(
    ...SOURCE_DIRECTORIES.map((directory) => newestModification(join(repositoryRoot, directory))),
  );
  if (builtAt > sourcesAt) return;
  console.log(
    'building (pnpm build): server/dist or embedded-mongo/dist is missing or older than its sources',
  );
  await runPnpm(['build'], repositoryRoot);
}

/**
 * The settings production insists on, for a server answering at `url`: its own origin for CORS, a random
 * metrics token, and mail kept in the outbox (benchmarks send none worth delivering).
 */
export function productionEnv(url: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    CORS_ORIGINS: url,
    METRICS_TOKEN: randomBytes(32).toString('hex'),
    MAIL_OUTBOX_IN_PRODUCTION: 'true',
  };
}

/**
 * The built server in production mode (`node --expose-gc --conditions=production server/dist/main.js`);
 * `nodeArgs` go to Node before the entry.
 */
export function runBuiltServer(env: Record<string, string>, nodeArgs: string[] = []): RunningProcess {
  return runNode(['--expose-gc', '--conditions=production', ...nodeArgs, BUILT_SERVER_ENTRY], {
    cwd: repositoryRoot,
    env,
  });
}

/** The built embedded database on its own, as `pnpm db` runs it from the sources. */
export function runBuiltDatabase(env: Record<string, string>): RunningProcess {
  return runNode(['--conditions=production', BUILT_DATABASE_ENTRY], {
    cwd: repositoryRoot,
    env: { NODE_ENV: 'production', ...env },
  });
}
