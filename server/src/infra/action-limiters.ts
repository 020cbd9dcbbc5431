import type { Redis } from 'ioredis';

import type { Config, RateLimitConfig } from '../config.js';
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from './rate-limiter.js';

export type LimitedAction =
  'register' | 'verify' | 'login' | 'refresh' | 'passwordReset' | 'passwordCheck' | 'generation';

/** One limiter per sensitive action, shared through Redis when it is configured, else in this process. */
export function createActionLimiters(
  config: Pick<Config, 'authRateLimit' | 'generationRateLimit'>,
  redis: Redis | undefined,
): Record<LimitedAction, RateLimiter> {
  const limiter = (name: string, { limits, windowMs }: RateLimitConfig) =>
    redis ? createRedisRateLimiter(redis, name, limits, windowMs) : createMemoryRateLimiter(limits, windowMs);
  const authLimiter = (name: string) => limiter(name, config.authRateLimit);
  return {
    register: authLimiter('register'),
    verify: authLimiter('verify'),
    login: authLimiter('login'),
    refresh: authLimiter('refresh'),
    passwordReset: authLimiter('password-reset'),
    passwordCheck: authLimiter('password-check'),
    generation: limiter('generation', config.generationRateLimit),
  };
}
