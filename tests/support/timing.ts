/** The middle value of some latencies (the upper one of the two middles for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** How long `call` took, in milliseconds. */
export async function timed<T>(call: () => Promise<T>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

/**
 * The gap two medians may leave and still count as the same work on a busy machine: a path that skips
 * the argon2 check is off by its whole time (tens of milliseconds), far past this.
 */
export function sameWorkTolerance(a: number, b: number): number {
  return Math.max(25, 0.25 * Math.max(a, b));
}
