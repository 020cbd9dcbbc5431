// Preload for `BENCH_NODE_OPTIONS="--import=<absolute path of this file>"`: traces the gen3d server process's
// memory (only it; the benchmarks start other processes too). Every 5 s it appends a line with the process's
// RSS, the V8 heap and its old space, and the old space's size read just after full collections since the
// last line (one reading per batch of collections reported together), to
// <tmpdir>/gen3d-heap-traces/server-<pid>.txt. RSS alone cannot tell a leak from V8 letting garbage pile up
// between full collections; what stays after them can.
import { appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

if (process.argv.some((argument) => /server\/(src\/main\.ts|dist\/main\.js)$/.test(argument))) {
  const directory = join(tmpdir(), 'gen3d-heap-traces');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `server-${process.pid}.txt`);
  const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);
  const oldSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'old_space');
  const started = Date.now();
  let afterFullCollections = [];
  new PerformanceObserver((list) => {
    const full = list
      .getEntries()
      .some((entry) => entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (full) afterFullCollections.push(mib(oldSpace()?.space_used_size ?? 0));
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const memory = process.memoryUsage();
    const old = oldSpace();
    appendFileSync(
      file,
      `${((Date.now() - started) / 1000).toFixed(0)} s: rss ${mib(memory.rss)} MiB, heap ${mib(memory.heapUsed)} of ${mib(memory.heapTotal)} MiB, old space ${mib(old?.space_used_size ?? 0)} of ${mib(old?.physical_space_size ?? 0)} MiB; after full collections: ${afterFullCollections.join(', ') || '-'}\n`,
    );
    afterFullCollections = [];
  }, 5_000).unref();
}
