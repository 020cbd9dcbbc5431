import { performance } from 'node:perf_hooks';

export interface Throughput {
  operations: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

/**
 * Runs `operation` from `concurrency` parallel loops for `durationMs` (or until it returns false)
 * and reports throughput and latency percentiles.
 */
export async function measureThroughput(
  concurrency: number,
  durationMs: number,
  operation: (iteration: number) => Promise<unknown>,
): Promise<Throughput> {
  const latencies: number[] = [];
  const started = performance.now();
  let iteration = 0;
  let done = false;
  const loop = async (): Promise<void> => {
    while (!done && performance.now() - started < durationMs) {
      const before = performance.now();
      const more = await operation(iteration++);
      latencies.push(performance.now() - before);
      if (more === false) done = true;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    operations: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

export function formatThroughput(name: string, result: Throughput, target?: number): string {
  const verdict =
    target === undefined
      ? ''
      : result.perSecond >= target
        ? `  (target ${target}/s: met)`
        : `  (target ${target}/s: MISSED)`;
  return `${name.padEnd(34)} ${result.perSecond.toFixed(0).padStart(7)}/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  (${result.operations} ops)${verdict}`;
}
