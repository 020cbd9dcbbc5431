/** Outcome of counting one attempt against a limit. */
export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts an attempt for every key; refused when any key is over its limit. */
  hit(keys: string[]): RateDecision;
}

/**
 * Fixed-window counters in this process's memory: at most `max` attempts per key per window.
 * Windows that ended are dropped as new ones start, so memory follows the number of active keys.
 */
export function createMemoryRateLimiter(max: number, windowMs: number): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let nextSweep = Date.now() + windowMs;
  return {
    hit(keys) {
      const now = Date.now();
      if (now >= nextSweep) {
        for (const [key, window] of windows) if (window.resetAt <= now) windows.delete(key);
        nextSweep = now + windowMs;
      }
      let retryAfterMs = 0;
      for (const key of keys) {
        let window = windows.get(key);
        if (!window || window.resetAt <= now) {
          window = { count: 0, resetAt: now + windowMs };
          windows.set(key, window);
        }
        window.count += 1;
        if (window.count > max) retryAfterMs = Math.max(retryAfterMs, window.resetAt - now);
      }
      return { allowed: retryAfterMs === 0, retryAfterSeconds: Math.ceil(retryAfterMs / 1000) };
    },
  };
}
