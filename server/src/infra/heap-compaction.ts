import { performance } from 'node:perf_hooks';

import type { Logger } from 'pino';

/** Long enough after listening that start-up's garbage is garbage; soon enough that an idle server is small. */
export const COMPACT_AFTER_LISTENING_MS = 5_000;

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);

/**
 * Start-up grows V8's young generation, and V8 gives it back only after an idle server's own small
 * allocations have filled it again: minutes on Node 24, sometimes more (the server idles at ~165 MiB until
 * then, ~125 MiB after). When the process runs with `--expose-gc` (the production start commands pass it),
 * one memory-reducing collection shortly after listening returns that memory at once; without the flag this
 * does nothing. Node 20's V8 has no memory-reducing collection (the call is a plain one there, a few ms),
 * but it shrinks the smaller young generation by itself within a minute.
 */
export function compactHeapAfterStart(logger: Logger, delayMs = COMPACT_AFTER_LISTENING_MS): void {
  const collect = globalThis.gc;
  if (!collect) return;
  setTimeout(() => {
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
  }, delayMs).unref();
}
