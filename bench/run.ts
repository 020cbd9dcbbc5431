import { availableParallelism } from 'node:os';

import { benchmarkEmbeddedDatabaseRaw } from '../embedded-mongo/bench/embedded-db-raw.js';
import { benchmarkEmbeddedDatabase } from '../embedded-mongo/bench/embedded-db.js';
import { benchmarkAnalytics } from './analytics.js';
import { benchmarkAssets } from './assets.js';
import { benchmarkAuth } from './auth.js';
import { benchmarkJobs } from './jobs.js';
import { benchmarkSoak } from './soak.js';
import { benchmarkStartup } from './startup.js';

/** `pnpm bench [name...]`: runs the named benchmarks (all by default) and prints their figures. */
const benchmarks: Record<string, () => Promise<void>> = {
  'embedded-db': benchmarkEmbeddedDatabase,
  'embedded-db-raw': benchmarkEmbeddedDatabaseRaw,
  auth: benchmarkAuth,
  jobs: benchmarkJobs,
  analytics: benchmarkAnalytics,
  assets: benchmarkAssets,
  startup: benchmarkStartup,
  soak: benchmarkSoak,
};

// Figures depend on the runtime: every process a benchmark starts runs on this same Node (process.execPath).
console.log(`Node ${process.version}, ${availableParallelism()} CPUs`);

const requested = process.argv.slice(2);
const names = requested.length > 0 ? requested : Object.keys(benchmarks);
for (const name of names) {
  const run = benchmarks[name];
  if (!run) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(benchmarks).join(', ')}`);
    process.exit(2);
  }
  await run();
}
