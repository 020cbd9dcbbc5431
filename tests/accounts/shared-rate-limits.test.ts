import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { redisServerAvailable, startTestRedis, type TestRedis } from '../support/redis.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

// CI sets REQUIRE_REDIS_TESTS so a missing redis-server fails there instead of skipping.
const available = redisServerAvailable() || process.env.REQUIRE_REDIS_TESTS === '1';
if (!available)
  console.warn(
    'skipping the shared rate limit tests: redis-server is not installed (apt-get install redis-server)',
  );

describe.runIf(available)('rate limits shared through REDIS_URL', () => {
  let redis: TestRedis;
  let database: TestDatabase;
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    redis = await startTestRedis();
    database = await startTestDatabase();
    const env = {
      REDIS_URL: redis.url,
      AUTH_RATE_LIMIT_MAX: '3',
      RATE_LIMIT_MAX: '6',
      RATE_LIMIT_WINDOW_MS: '600000',
    };
    first = await startTestServer(database, { env });
    second = await startTestServer(database, { env });
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.stop();
    await redis?.stop();
  });

  it('counts login attempts for one account across two instances', async () => {
    const statuses: number[] = [];
    for (const [attempt, instance] of [first, second, first, second].entries()) {
      statuses.push(
        (
          await callRest(instance.url, 'POST', '/auth/login', {
            email: 'shared@example.com',
            password: `guess number ${attempt}`,
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('shares the global per-IP limit across instances', async () => {
    const statuses: number[] = [];
    for (let request = 0; request < 4; request += 1) {
      statuses.push((await fetch(`${(request % 2 === 0 ? first : second).url}/api/system/info`)).status);
    }
    // Four logins above and these four requests make eight from this IP: over the limit of six.
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });
});
