import { describe, expect, it } from 'vitest';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW_MS: '600000' } });

describe('rate limits on sensitive auth actions', () => {
  it('stops password guessing against one account with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push((await callRest(suite.server.url, 'POST', '/auth/login', { email: 'victim@example.com', password: `guess-${attempt}-long` })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const blocked = await callRest(suite.server.url, 'POST', '/auth/login', { email: 'victim@example.com', password: 'another-guess' });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('stops code guessing on verification per address', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push((await callRest(suite.server.url, 'POST', '/auth/register/verify', { email: 'pending@example.com', code: `00000${attempt}` })).status);
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
  });

  it('counts each action separately', async () => {
    const reset = await callRest(suite.server.url, 'POST', '/auth/request-password-reset', { email: 'victim@example.com' });
    expect(reset.status).toBe(200);
  });
});
