import type { Redis } from 'ioredis';

/** Outcome of counting one attempt against a limit. */
export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  /** The highest count among the keys in their current windows, this attempt included. */
  count: number;
}

export interface RateLimiter {
  /** Counts an attempt for every key; refused when any key is over its limit. */
  hit(keys: string[]): Promise<RateDecision>;
}

function decide(max: number, counts: Array<{ count: number; remainingMs: number }>): RateDecision {
  const retryAfterMs = Math.max(0, ...counts.filter(({ count }) => count > max).map(({ remainingMs }) => remainingMs));
  const refused = counts.some(({ count }) => count > max);
  return { allowed: !refused, retryAfterSeconds: refused ? Math.max(1, Math.ceil(retryAfterMs / 1000)) : 0, count: Math.max(0, ...counts.map(({ count }) => count)) };
}

/**
 * Fixed-window counters in this process's memory: at most `max` attempts per key per window.
 * Windows that ended are dropped as new ones start, so memory follows the number of active keys.
 */
export function createMemoryRateLimiter(max: number, windowMs: number): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let nextSweep = Date.now() + windowMs;
  return {
    async hit(keys) {
      const now = Date.now();
      if (now >= nextSweep) {
        for (const [key, window] of windows) if (window.resetAt <= now) windows.delete(key);
        nextSweep = now + windowMs;
      }
      return decide(
        max,
        keys.map((key) => {
          let window = windows.get(key);
          if (!window || window.resetAt <= now) {
            window = { count: 0, resetAt: now + windowMs };
            windows.set(key, window);
          }
          window.count += 1;
          return { count: window.count, remainingMs: window.resetAt - now };
        }),
      );
    },
  };
}

// Increments and starts the window on the first hit, atomically; returns the count and the time left.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
`;

/** The same fixed windows kept in Redis, so every instance sharing REDIS_URL shares the counts. */
export function createRedisRateLimiter(redis: Redis, name: string, max: number, windowMs: number): RateLimiter {
  return {
    async hit(keys) {
      const counts = await Promise.all(
        keys.map(async (key) => {
          const [count, remainingMs] = (await redis.eval(HIT_SCRIPT, 1, `gen3d:rate:${name}:${key}`, windowMs)) as [number, number];
          return { count, remainingMs };
        }),
      );
      return decide(max, counts);
    },
  };
}
