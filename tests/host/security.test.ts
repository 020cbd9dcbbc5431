import { describe, expect, it } from 'vitest';

import { jsonOf, useTestServer } from '../support/server.js';

const suite = useTestServer({
  env: {
    CORS_ORIGINS: 'https://app.example.com,https://admin.example.com',
    RATE_LIMIT_MAX: '5',
    RATE_LIMIT_WINDOW_MS: '60000',
  },
});

describe('HTTP hardening', () => {
  it('sends security headers', async () => {
    const response = await fetch(`${suite.server.url}/health`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('referrer-policy')).toBeTruthy();
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    // The demo page runs no inline script: its policy does not allow one.
    const page = await fetch(`${suite.server.url}/`);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toMatch(/script-src [^;]*'self'/);
    expect(policy).not.toMatch(/script-src [^;]*'unsafe-inline'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('gives every response a request id, keeping a safe one the caller sent', async () => {
    const generated = await fetch(`${suite.server.url}/health`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await fetch(`${suite.server.url}/health`, { headers: { 'x-request-id': 'trace-123' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-123');
    const replaced = await fetch(`${suite.server.url}/health`, {
      headers: { 'x-request-id': 'evil\tvalue with spaces' },
    });
    expect(replaced.headers.get('x-request-id')).not.toContain('evil');
  });

  it('allows configured CORS origins and no others', async () => {
    const allowed = await fetch(`${suite.server.url}/api/system/info`, {
      headers: { origin: 'https://app.example.com' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const preflight = await fetch(`${suite.server.url}/trpc/system.info`, {
      method: 'OPTIONS',
      headers: { origin: 'https://admin.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    const denied = await fetch(`${suite.server.url}/api/system/info`, {
      headers: { origin: 'https://evil.example.net' },
    });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rate limits per client with 429, Retry-After and an error string, but never /health', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const response = await fetch(`${suite.server.url}/api/system/info`, {
        headers: { origin: 'https://app.example.com' },
      });
      statuses.push(response.status);
      if (response.status === 429) {
        limited = response;
        break;
      }
      await response.arrayBuffer();
    }
    expect(limited, `statuses: ${statuses.join(',')}`).toBeDefined();
    const response = limited as Response;
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = await jsonOf(response);
    expect(body).toMatchObject({ code: 'RATE_LIMITED', statusCode: 429 });
    expect(String(body.error)).toMatch(/too many requests/i);
    const health = await fetch(`${suite.server.url}/health`);
    expect(health.status).toBe(200);
  });
});
