import { describe, expect, it } from 'vitest';

import { runAdminScript } from '../support/accounts.js';
import { useTestServer } from '../support/server.js';
import { codeIn, resetTokenIn } from '../support/smtp.js';

/**
 * The REST surface as docs/rest-contract.md lists it, driven with plain fetch the way existing
 * frontends and third-party scripts call it: method, path, parameters, body, and the listed fields.
 */

type Json = Record<string, unknown>;

const suite = useTestServer({ mail: true, env: { AUTH_RATE_LIMIT_MAX: '1000' }, modelDurationMs: 200 });

async function api(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Json & Json[] }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${suite.server.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json & Json[] };
}

function hasFields(value: unknown, fields: string[]): void {
  expect(value).toBeTypeOf('object');
  for (const field of fields) expect(value, field).toHaveProperty(field);
}

const state: {
  admin?: string;
  user?: string;
  refresh?: string;
  userId?: string;
  chatId?: string;
  jobId?: string;
  assetId?: string;
} = {};
const must = <T>(value: T | undefined, name: string): T => {
  if (value === undefined) throw new Error(`${name} was not set by an earlier step`);
  return value;
};

describe('REST contract (plain fetch)', () => {
  it('auth: register, verify, login, refresh, me, password reset, logout', async () => {
    const email = 'contract@example.com';
    const registered = await api('POST', '/api/auth/register', {
      email,
      userName: 'Contract User',
      password: 'contract password 1',
    });
    expect(registered.status).toBe(200);
    expect(registered.body).toMatchObject({ ok: true, message: expect.any(String) });
    const code = codeIn(await suite.smtp.waitForMail(email, /verification code/));
    const verified = await api('POST', '/api/auth/register/verify', { email, code });
    expect(verified.status).toBe(201);
    hasFields(verified.body.user, ['id', 'email', 'userName']);

    const login = await api('POST', '/api/auth/login', { email, password: 'contract password 1' });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({
      ok: true,
      token: expect.any(String),
      refreshToken: expect.any(String),
    });
    hasFields(login.body.user, ['id', 'email', 'userName', 'roles', 'emailVerified']);
    const refreshed = await api('POST', '/api/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    hasFields(refreshed.body, ['token', 'refreshToken']);
    expect((await api('POST', '/api/auth/refresh', { refreshToken: login.body.refreshToken })).status).toBe(
      401,
    );
    // Replaying the spent refresh token ended every session of the account: sign in again.
    const relogin = await api('POST', '/api/auth/login', { email, password: 'contract password 1' });
    state.user = String(relogin.body.token);
    state.refresh = String(relogin.body.refreshToken);

    const me = await api('GET', '/api/auth/me', undefined, state.user);
    hasFields(me.body, ['_id', 'email', 'userName', 'roles', 'emailVerified', 'profile', 'settings']);
    expect(JSON.stringify(me.body)).not.toMatch(/password|hash/i);
    state.userId = String(me.body._id);

    expect((await api('POST', '/api/auth/request-password-reset', { email })).body).toMatchObject({
      ok: true,
      message: expect.any(String),
    });
    expect(
      (await api('POST', '/api/auth/request-password-reset', { email: 'nobody@example.com' })).body,
    ).toMatchObject({ ok: true });
    const token = resetTokenIn(await suite.smtp.waitForMail(email, /Reset your gen3d password/));
    expect(
      (await api('POST', '/api/auth/reset-password', { token, newPassword: 'contract password 2' })).body,
    ).toMatchObject({ ok: true, message: expect.any(String) });
    const again = await api('POST', '/api/auth/login', { email, password: 'contract password 2' });
    state.user = String(again.body.token);
    const other = await api('POST', '/api/auth/login', { email, password: 'contract password 2' });
    expect((await api('POST', '/api/auth/logout', { refreshToken: other.body.refreshToken })).body).toEqual({
      ok: true,
    });
    // Logout ends that session's access tokens; the other session goes on.
    expect((await api('GET', '/api/auth/me', undefined, String(other.body.token))).status).toBe(401);
    expect((await api('GET', '/api/auth/me', undefined, state.user)).status).toBe(200);
    expect((await api('GET', '/api/auth/me')).status).toBe(401);
  });

  it('users: list for staff only, profiles, creation by admins, owner updates', async () => {
    expect(
      (
        await runAdminScript(suite.server, 'create-admin', [
          '--email',
          'boss@example.com',
          '--password',
          'boss password 1',
        ])
      ).code,
    ).toBe(0);
    state.admin = String(
      (await api('POST', '/api/auth/login', { email: 'boss@example.com', password: 'boss password 1' })).body
        .token,
    );
    expect((await api('GET', '/api/users', undefined, must(state.user, 'user'))).status).toBe(403);
    expect(Array.isArray((await api('GET', '/api/users', undefined, state.admin)).body.users)).toBe(true);
    const profile = await api('GET', `/api/users/${must(state.userId, 'userId')}`, undefined, state.admin);
    hasFields(profile.body, ['_id', 'userName', 'profile', 'settings']);
    const created = await api(
      'POST',
      '/api/users',
      { email: 'made@example.com', userName: 'Made', password: 'made password 1' },
      state.admin,
    );
    expect(created.status).toBe(201);
    expect(
      (
        await api(
          'POST',
          '/api/users',
          { email: 'x@example.com', userName: 'X', password: 'x password 12' },
          state.user,
        )
      ).status,
    ).toBe(403);
    const updated = await api(
      'PATCH',
      `/api/users/${state.userId}`,
      { userName: 'Renamed', profile: { bio: 'hello' }, settings: { theme: 'dark' } },
      state.user,
    );
    expect(updated.body).toMatchObject({
      userName: 'Renamed',
      profile: { bio: 'hello' },
      settings: { theme: 'dark' },
    });
  });

  it('chats, messages, jobs, assets and the blocking generate', async () => {
    const user = must(state.user, 'user');
    const chat = await api('POST', '/api/chats', { title: 'Contract chat' }, user);
    expect(chat.status).toBe(201);
    state.chatId = String(chat.body._id);
    expect(
      (await api('PATCH', `/api/chats/${state.chatId}`, { title: 'Renamed chat' }, user)).body,
    ).toMatchObject({ title: 'Renamed chat' });
    const chats = await api('GET', '/api/chats', undefined, user);
    hasFields(chats.body[0], ['_id', 'title', 'createdAt', 'updatedAt', 'lastMessageAt']);

    const message = await api(
      'POST',
      '/api/messages',
      { chatId: state.chatId, role: 'user', content: 'hello', type: 'text' },
      user,
    );
    expect(message.status).toBe(201);
    const messages = await api(
      'GET',
      `/api/messages?chatId=${state.chatId}&page=1&limit=50`,
      undefined,
      user,
    );
    expect(messages.body.map((item) => item.content)).toEqual(['hello']);

    const job = await api(
      'POST',
      '/api/jobs',
      { prompt: 'a contract cube', params: { seed: 1 }, chatId: state.chatId },
      user,
    );
    expect(job.status).toBe(201);
    state.jobId = String(job.body._id);
    const jobs = await api('GET', '/api/jobs', undefined, user);
    hasFields(jobs.body[0], [
      '_id',
      'prompt',
      'params',
      'status',
      'progress',
      'error',
      'outputs',
      'createdAt',
      'startedAt',
      'finishedAt',
    ]);
    const canceled = await api('POST', `/api/jobs/${state.jobId}/cancel`, undefined, user);
    expect([200, 400]).toContain(canceled.status);
    expect((await api('PATCH', `/api/jobs/${state.jobId}`, { progress: 5 }, user)).status).toBe(403);

    const generated = await api(
      'POST',
      '/api/generate',
      { prompt: 'a contract sphere', guidanceScale: 12, steps: 20, frameSize: 128 },
      user,
    );
    expect(generated.status, JSON.stringify(generated.body)).toBe(200);
    hasFields(generated.body, ['id', 'prompt', 'files', 'assets']);
    hasFields(generated.body.files, ['glb', 'obj', 'mtl', 'ply']);
    const assets = await api('GET', `/api/assets?jobId=${String(generated.body.id)}`, undefined, user);
    hasFields(assets.body[0], ['_id', 'jobId', 'kind', 'format', 'url', 'bytes', 'createdAt']);
    state.assetId = String(assets.body[0]?._id);
    const file = await fetch(String(assets.body[0]?.url));
    expect(file.status).toBe(200);

    const attached = await api(
      'POST',
      '/api/messages',
      {
        chatId: state.chatId,
        role: 'user',
        content: 'here',
        type: 'model',
        attachments: [{ assetId: state.assetId, kind: 'model', url: assets.body[0]?.url }],
      },
      user,
    );
    expect(attached.status, JSON.stringify(attached.body)).toBe(201);
    expect((await api('POST', '/api/assets', { format: 'glb', data: 'Z2xURg==' }, user)).status).toBe(403);

    const removed = await api('DELETE', `/api/chats/${state.chatId}`, undefined, user);
    expect(removed.body).toMatchObject({ ok: true });
  });

  it('admin and analytics', async () => {
    const admin = must(state.admin, 'admin');
    const list = await api('GET', '/api/admin/users?page=1&limit=20', undefined, admin);
    hasFields(list.body, ['users', 'pagination']);
    hasFields(list.body.pagination, ['page', 'limit', 'total', 'pages']);
    const stats = await api('GET', '/api/admin/stats', undefined, admin);
    hasFields(stats.body, ['users', 'jobs', 'assets', 'chats', 'messages', 'recent']);
    const target = String((list.body.users as Json[]).find((user) => user.email === 'made@example.com')?._id);
    expect(
      (await api('PATCH', `/api/admin/users/${target}/roles`, { roles: ['user', 'moderator'] }, admin)).body,
    ).toMatchObject({ ok: true, user: { roles: ['user', 'moderator'] } });
    expect((await api('POST', `/api/admin/users/${target}/deactivate`, undefined, admin)).body).toMatchObject(
      { ok: true, message: expect.any(String), user: { active: false } },
    );
    expect(
      (await api('POST', '/api/auth/login', { email: 'made@example.com', password: 'made password 1' }))
        .status,
    ).toBe(403);
    expect((await api('POST', `/api/admin/users/${target}/reactivate`, undefined, admin)).body).toMatchObject(
      { ok: true, user: { active: true } },
    );
    expect(
      (await api('DELETE', `/api/admin/users/${target}`, { confirmEmail: 'made@example.com' }, admin)).body,
    ).toMatchObject({ ok: true });
    const me = String((await api('GET', '/api/auth/me', undefined, admin)).body._id);
    expect(
      (await api('DELETE', `/api/admin/users/${me}`, { confirmEmail: 'boss@example.com' }, admin)).status,
    ).toBe(403);

    const user = must(state.user, 'user');
    hasFields((await api('GET', '/api/analytics/stats', undefined, user)).body, [
      'jobs',
      'assets',
      'chats',
      'messages',
      'recent',
    ]);
    hasFields((await api('GET', '/api/analytics/stats', undefined, user)).body.jobs, [
      'total',
      'succeeded',
      'failed',
      'running',
      'queued',
      'canceled',
    ]);
    hasFields((await api('GET', '/api/analytics/dashboard?days=30', undefined, user)).body, [
      'jobsPerDay',
      'assetsPerDay',
      'totals',
    ]);
    hasFields((await api('GET', '/api/analytics/generation-metrics?days=30', undefined, user)).body, [
      'successRate',
      'durationMs',
      'jobs',
    ]);
    hasFields((await api('GET', '/api/analytics/popular-prompts?limit=10', undefined, user)).body, [
      'popular',
      'recent',
    ]);
    hasFields((await api('GET', '/api/analytics/chat-stats', undefined, user)).body, [
      'chats',
      'messages',
      'messagesPerChat',
      'mostActive',
    ]);
  });

  it('api keys: create, call with the key, list, admin list and revoke', async () => {
    // `keys` would name the array method on the body's type.
    const keysOf = (body: unknown): Json[] => (body as { keys: Json[] }).keys;
    const user = must(state.user, 'user');
    const admin = must(state.admin, 'admin');
    const created = await api(
      'POST',
      '/api/keys',
      { name: 'contract key', scopes: ['jobs:read', 'chats:read'] },
      user,
    );
    expect(created.status).toBe(201);
    hasFields(created.body, [
      'id',
      'name',
      'prefix',
      'scopes',
      'createdAt',
      'expiresAt',
      'lastUsedAt',
      'key',
    ]);
    const key = String(created.body.key);
    expect((await api('GET', '/api/jobs', undefined, key)).status).toBe(200);
    expect((await api('POST', '/api/chats', { title: 'no' }, key)).body.code).toBe('MISSING_SCOPE');
    expect((await api('GET', '/api/keys', undefined, key)).body.code).toBe('API_KEY_NOT_ALLOWED');
    const listed = await api('GET', '/api/keys', undefined, user);
    hasFields(keysOf(listed.body)[0], [
      'id',
      'name',
      'prefix',
      'scopes',
      'createdAt',
      'lastUsedAt',
      'lastUsedIp',
    ]);
    expect(keysOf(listed.body)[0]).not.toHaveProperty('key');
    const all = await api(
      'GET',
      `/api/admin/keys?userId=${must(state.userId, 'userId')}&page=1&limit=50`,
      undefined,
      admin,
    );
    hasFields(all.body, ['keys', 'pagination']);
    hasFields(keysOf(all.body)[0], ['id', 'ownerId', 'ownerEmail']);
    const second = await api('POST', '/api/keys', { name: 'second', scopes: ['jobs:read'] }, user);
    expect((await api('DELETE', `/api/keys/${String(created.body.id)}`, undefined, user)).body).toMatchObject(
      {
        ok: true,
      },
    );
    expect((await api('GET', '/api/jobs', undefined, key)).status).toBe(401);
    expect(
      (await api('DELETE', `/api/admin/keys/${String(second.body.id)}`, undefined, admin)).body,
    ).toMatchObject({ ok: true });
    expect((await api('GET', '/api/jobs', undefined, String(second.body.key))).status).toBe(401);
  });

  it('utility routes and error bodies', async () => {
    expect((await api('GET', '/health')).body).toEqual({ ok: true });
    expect((await fetch(`${suite.server.url}/api-docs`)).status).toBe(200);
    const missing = await api('GET', '/api/chats');
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ error: expect.any(String), code: 'UNAUTHORIZED' });
    const invalid = await api('POST', '/api/auth/login', { email: 'not-an-email', password: '' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ error: expect.any(String), code: 'VALIDATION_FAILED' });
  });
});
