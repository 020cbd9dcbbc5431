import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-outbox-'));
const suite = useTestServer({
  env: { DATA_DIR: dataDir, BODY_LIMIT_BYTES: '4096', AUTH_RATE_LIMIT_MAX: '1000' },
});

const STRING_FIELDS: Array<{ path: string; body: Record<string, unknown> }> = [
  { path: '/auth/register', body: { email: 'a@example.com', userName: 'Ada', password: 'long enough pw' } },
  { path: '/auth/register/verify', body: { email: 'a@example.com', code: '123456' } },
  { path: '/auth/login', body: { email: 'a@example.com', password: 'long enough pw' } },
  { path: '/auth/refresh', body: { refreshToken: 'token' } },
  { path: '/auth/logout', body: { refreshToken: 'token' } },
  { path: '/auth/request-password-reset', body: { email: 'a@example.com' } },
  { path: '/auth/reset-password', body: { token: 'token', newPassword: 'long enough pw' } },
];

describe('hostile input to the auth endpoints', () => {
  it('answers a query operator in any string field with 400 VALIDATION_FAILED naming the field', async () => {
    for (const { path, body } of STRING_FIELDS) {
      for (const field of Object.keys(body)) {
        const answer = await callRest(suite.server.url, 'POST', path, { ...body, [field]: { $gt: '' } });
        expect(answer.status, `${path} ${field}`).toBe(400);
        expect(answer.body.code).toBe('VALIDATION_FAILED');
        expect((answer.body.issues as Array<{ path: string }>).map((issue) => issue.path)).toContain(field);
      }
    }
  });

  it('answers oversized and malformed bodies with 413 and 400, never 500', async () => {
    const huge = await fetch(`${suite.server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(10_000) }),
    });
    expect(huge.status).toBe(413);
    for (const body of ['{"email": "a@example.com", ', '[1, 2', 'null', '"text"', '42']) {
      const response = await fetch(`${suite.server.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as { error?: unknown }).error).toEqual(expect.any(String));
    }
    const wrongType = await fetch(`${suite.server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'email=a',
    });
    expect(wrongType.status).toBe(415);
  });

  it('writes mail to DATA_DIR/outbox when no SMTP server is configured, so a developer can read the code', async () => {
    const answer = await callRest(suite.server.url, 'POST', '/auth/register', {
      email: 'outbox@example.com',
      userName: 'Out',
      password: 'long enough pw',
    });
    expect(answer.status).toBe(200);
    const outbox = join(dataDir, 'outbox');
    const files = readdirSync(outbox).filter((name) => name.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const mail = readFileSync(join(outbox, files[0] as string), 'utf8');
    expect(mail).toContain('To: outbox@example.com');
    const code = /code is (\d{6})/.exec(mail)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    const verified = await callRest(suite.server.url, 'POST', '/auth/register/verify', {
      email: 'outbox@example.com',
      code,
    });
    expect(verified.status).toBe(201);
  });
});
