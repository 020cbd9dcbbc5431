import type { Redis } from 'ioredis';

/** Outcome of counting one attempt against a limit. */
export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  /** The highest count among the keys in their current windows, this attempt included. */
  count: number;
}

/**
 * Who an attempt is counted against: the client's network address, or an account (a signed-in user, or
 * the email address an attempt names). Each kind has its own limit: many people can share one address
 * (an office, a mobile carrier's NAT, a third party's backend), so addresses usually get more.
 */
export interface RateKey {
  kind: 'address' | 'account';
  id: string;
}

/** Attempts allowed per window for one key of each kind. */
export type RateLimits = Record<RateKey['kind'], number>;

export interface RateLimiter {
  /** Counts an attempt for every key; refused when any key is over its kind's limit. */
  hit(keys: RateKey[]): Promise<RateDecision>;
}

function decide(counts: Array<{ count: number; remainingMs: number; max: number }>): RateDecision {
  const over = counts.filter(({ count, max }) => count > max);
  const retryAfterMs = Math.max(0, ...over.map(({ remainingMs }) => remainingMs));
  const refused = over.length > 0;
  return {
    allowed: !refused,
    retryAfterSeconds: refused ? Math.max(1, Math.ceil(retryAfterMs / 1000)) : 0,
    count: Math.max(0, ...counts.map(({ count }) => count)),
  };
}

const storageKey = (key: RateKey): string => `${key.kind}:${key.id}`;

/**
 * Fixed-window counters in this process's memory: at most `limits[kind]` attempts per key per window.
 * Windows that ended are dropped as new ones start, so memory follows the number of active keys.
 */
export function createMemoryRateLimiter(limits: RateLimits, windowMs: number): RateLimiter {
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
        keys.map((key) => {
          let window = windows.get(storageKey(key));
          if (!window || window.resetAt <= now) {
            window = { count: 0, resetAt: now + windowMs };
            windows.set(storageKey(key), window);
          }
          window.count += 1;
          return { count: window.count, remainingMs: window.resetAt - now, max: limits[key.kind] };
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
export function createRedisRateLimiter(
  redis: Redis,
  name: string,
  limits: RateLimits,
  windowMs: number,
): RateLimiter {
  return {
    async hit(keys) {
      const counts = await Promise.all(
        keys.map(async (key) => {
          const [count, remainingMs] = (await redis.eval(
            HIT_SCRIPT,
            1,
            `gen3d:rate:${name}:${storageKey(key)}`,
            windowMs,
          )) as [number, number];
          return { count, remainingMs, max: limits[key.kind] };
        }),
      );
      return decide(counts);
    },
  };
}
