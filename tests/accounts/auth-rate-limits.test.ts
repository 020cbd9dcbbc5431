import { describe, expect, it } from 'vitest';

import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW_MS: '600000' } });
const sharedAddress = useTestServer({
  env: { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_IP_MAX: '6', AUTH_RATE_LIMIT_WINDOW_MS: '600000' },
});

const loginStatus = async (url: string, email: string): Promise<number> =>
  (await callRest(url, 'POST', '/auth/login', { email, password: 'a wrong password' })).status;

describe('rate limits on sensitive auth actions', () => {
  it('stops password guessing against one account with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push(
        (
          await callRest(suite.server.url, 'POST', '/auth/login', {
            email: 'victim@example.com',
            password: `guess-${attempt}-long`,
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const blocked = await callRest(suite.server.url, 'POST', '/auth/login', {
      email: 'victim@example.com',
      password: 'another-guess',
    });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('stops code guessing on verification per address', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push(
        (
          await callRest(suite.server.url, 'POST', '/auth/register/verify', {
            email: 'pending@example.com',
            code: `00000${attempt}`,
          })
        ).status,
      );
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
  });

  it('counts each action separately', async () => {
    const reset = await callRest(suite.server.url, 'POST', '/auth/request-password-reset', {
      email: 'victim@example.com',
    });
    expect(reset.status).toBe(200);
  });
});

describe('rate limits for many people behind one address', () => {
  it("does not refuse one account for another's attempts from the same address", async () => {
    for (let attempt = 0; attempt < 4; attempt += 1)
      await loginStatus(suite.server.url, 'locked-out@example.com');
    expect(await loginStatus(suite.server.url, 'locked-out@example.com')).toBe(429);
    // Same address (127.0.0.1), another account: its own count, and the address allows ten accounts' worth.
    expect(await loginStatus(suite.server.url, 'colleague@example.com')).toBe(401);
  });

  it('caps all attempts from one address at AUTH_RATE_LIMIT_IP_MAX', async () => {
    const statuses: number[] = [];
    for (let person = 0; person < 7; person += 1)
      statuses.push(await loginStatus(sharedAddress.server.url, `person-${person}@example.com`));
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
  });

  it('refreshes tokens per address at the address limit, not the per-account one', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 7; attempt += 1)
      statuses.push(
        (
          await callRest(sharedAddress.server.url, 'POST', '/auth/refresh', {
            refreshToken: `not-a-token-${attempt}`,
          })
        ).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
  });
});
