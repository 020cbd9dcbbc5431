import { performance } from 'node:perf_hooks';

import type { Logger } from 'pino';

/** Long enough after listening that start-up's garbage is garbage; soon enough that an idle server is small. */
export const COMPACT_AFTER_LISTENING_MS = 5_000;
/**
 * Above this share of the wait spent running JavaScript the server is already serving traffic: its young
 * generation is in use, and the collection (over 100 ms, on the event loop) would only stall requests.
 */
const BUSY_EVENT_LOOP_UTILIZATION = 0.25;

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

/**
 * Start-up grows V8's young generation, and V8 gives it back only after an idle server's own small
 * allocations have filled it again: usually 100-110 s after ready on Node 24, sometimes over 3 minutes
 * (the server idles at ~165 MiB until then, ~125 MiB after). When the process runs with `--expose-gc` (the
 * production start commands pass it) and is still idle `delayMs` after listening, one memory-reducing
 * collection returns that memory at once; without the flag this does nothing. Node 20's V8 ignores the
 * collection's options and runs a minor one, which changes nothing, but it shrinks its smaller young
 * generation by itself within a minute. Returns a function that cancels the collection (at shutdown).
 */
export function compactHeapAfterStart(logger: Logger, delayMs = COMPACT_AFTER_LISTENING_MS): () => void {
  const collect = globalThis.gc;
  if (!collect) return () => undefined;
  const loopBefore = performance.eventLoopUtilization();
  const timer = setTimeout(() => {
    const { utilization } = performance.eventLoopUtilization(loopBefore);
    if (utilization > BUSY_EVENT_LOOP_UTILIZATION) {
      logger.info(
        { eventLoopUtilization: Number(utilization.toFixed(2)) },
        'memory-reducing collection after start-up skipped: the server is busy',
      );
      return;
    }
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    logger.info(
      {
        ms: Math.round(performance.now() - started),
        rssBeforeMiB: mib(rssBefore),
        rssAfterMiB: mib(process.memoryUsage.rss()),
      },
      'memory-reducing collection after start-up',
    );
  }, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
}
