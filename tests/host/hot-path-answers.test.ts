import { describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer();

/** The headers helmet's defaults give every answer (set once at start-up, then on each request). */
function expectSecurityHeaders(response: Response): void {
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
  expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  expect(response.headers.get('strict-transport-security')).toContain('max-age=');
  expect(response.headers.get('cross-origin-resource-policy')).toBe('same-site');
  expect(response.headers.get('x-powered-by')).toBeNull();
}

describe('answers on the hot path', () => {
  it('answers a tRPC query whole, with its length, and keeps streamed batches streaming', async () => {
    const admin = await signInNewAdmin(suite.server, 'hot-admin@example.com');
    const user = await signInNewUser(suite.server, admin, 'hot-user@example.com');
    const authorization = `Bearer ${user.token}`;

    const me = await fetch(`${suite.server.url}/trpc/auth.me`, { headers: { authorization } });
    const body = await me.text();
    expect(me.status).toBe(200);
    expect(me.headers.get('content-type')).toMatch(/^application\/json/);
    expect(me.headers.get('transfer-encoding')).toBeNull();
    expect(me.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(me.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((JSON.parse(body) as { result: { data: { email: string } } }).result.data.email).toBe(user.email);
    expectSecurityHeaders(me);

    // An error answer is whole too, with its status.
    const refused = await fetch(`${suite.server.url}/trpc/auth.me`);
    const refusal = await refused.text();
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-length')).toBe(String(Buffer.byteLength(refusal)));
    expect((JSON.parse(refusal) as { error: { data: { code: string } } }).error.data.code).toBe(
      'UNAUTHORIZED',
    );

    // A batch the client asked to stream (JSON lines) is still streamed, not buffered into one answer.
    const streamed = await fetch(`${suite.server.url}/trpc/auth.me,auth.me?batch=1&input={}`, {
      headers: { authorization, 'trpc-accept': 'application/jsonl' },
    });
    const lines = (await streamed.text()).trim().split('\n');
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('transfer-encoding')).toBe('chunked');
    expect(streamed.headers.get('content-length')).toBeNull();
    expect(lines.length).toBeGreaterThan(1);
  });

  it('sends the security headers on REST, tRPC and unknown routes alike', async () => {
    expectSecurityHeaders(await fetch(`${suite.server.url}/api/auth/me`));
    expectSecurityHeaders(await fetch(`${suite.server.url}/trpc/auth.me`));
    const unknown = await fetch(`${suite.server.url}/no-such-route`);
    expect(unknown.status).toBe(404);
    expectSecurityHeaders(unknown);
  });
});
