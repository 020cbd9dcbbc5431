import { beforeAll, describe, expect, it } from 'vitest';

import type { TAuditEvent, TJob } from '@gen3d/client';

import { logIn, runAdminScript, signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor, followJob } from '../support/generation.js';
import { startTestServer, useTestServer } from '../support/server.js';
import { resetTokenIn } from '../support/smtp.js';

const USER_AGENT = 'audit-test/1.0';

const suite = useTestServer({
  mail: true,
  env: { AUTH_RATE_LIMIT_MAX: '1000', LOCKOUT_THRESHOLD: '3', AUDIT_RETENTION_DAYS: '90' },
  modelDurationMs: 1500,
});
let admin: SignedIn;

beforeAll(async () => {
  admin = await signInNewAdmin(suite.server);
});

/** A REST call with a recognisable user agent. */
async function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${suite.server.url}/api${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The audit events about one target, as an admin reads them. */
async function eventsAbout(targetId: string, action?: string): Promise<TAuditEvent[]> {
  const answer = await call(
    'GET',
    `/admin/audit?targetId=${targetId}${action ? `&action=${action}` : ''}&limit=200`,
    undefined,
    admin.token,
  );
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.events as TAuditEvent[];
}

const byAdmin = () => ({ userId: admin.id, email: admin.email, via: 'api' });

describe('the audit log', () => {
  it('records account creation, by the API and by the create-admin script', async () => {
    const user = await signInNewUser(suite.server, admin, 'created@example.com');
    const [created, ...others] = await eventsAbout(user.id, 'user.created');
    expect(others).toEqual([]);
    expect(created).toMatchObject({
      action: 'user.created',
      actor: byAdmin(),
      target: { type: 'user', id: user.id, label: 'created@example.com' },
      ip: '127.0.0.1',
      changes: { before: {}, after: { email: 'created@example.com', roles: ['user'] } },
    });
    const [script] = await eventsAbout(admin.id, 'user.created');
    expect(script).toMatchObject({
      actor: { userId: null, via: 'cli' },
      userAgent: expect.stringContaining('create-admin'),
    });
  });

  it('records the changes the set-roles and deactivate scripts make, naming the script', async () => {
    const user = await signInNewUser(suite.server, admin, 'scripted@example.com');
    expect(
      (await runAdminScript(suite.server, 'set-roles', ['--email', user.email, '--roles', 'user,moderator']))
        .code,
    ).toBe(0);
    expect((await runAdminScript(suite.server, 'deactivate', ['--email', user.email])).code).toBe(0);
    const [deactivated, roles, ...others] = (await eventsAbout(user.id)).filter(
      (event) => event.action !== 'user.created',
    );
    expect(others).toEqual([]);
    expect(roles).toMatchObject({
      action: 'user.roles_changed',
      actor: { userId: null, email: null, via: 'cli' },
      ip: null,
      userAgent: expect.stringContaining('set-roles'),
      changes: { before: { roles: ['user'] }, after: { roles: ['user', 'moderator'] } },
    });
    expect(deactivated).toMatchObject({
      action: 'user.deactivated',
      actor: { via: 'cli' },
      userAgent: expect.stringContaining('deactivate'),
      changes: { before: { active: true }, after: { active: false } },
    });
  });

  it('records role changes, deactivation and reactivation once each, with actor, address, agent and before/after', async () => {
    const user = await signInNewUser(suite.server, admin, 'changed@example.com');
    expect(
      (await call('PATCH', `/admin/users/${user.id}/roles`, { roles: ['user', 'moderator'] }, admin.token))
        .status,
    ).toBe(200);
    expect((await call('POST', `/admin/users/${user.id}/deactivate`, undefined, admin.token)).status).toBe(
      200,
    );
    expect((await call('POST', `/admin/users/${user.id}/reactivate`, undefined, admin.token)).status).toBe(
      200,
    );
    // Refused actions leave no trace.
    expect((await call('POST', `/admin/users/${admin.id}/deactivate`, undefined, admin.token)).status).toBe(
      403,
    );
    // Deactivation ended the user's sessions; signed in again, they still cannot change roles.
    const again = await logIn(suite.server, user.email, 'user password 1');
    expect(
      (await call('PATCH', `/admin/users/${user.id}/roles`, { roles: ['admin'] }, again.token)).status,
    ).toBe(403);

    const events = (await eventsAbout(user.id)).filter((event) => event.action !== 'user.created');
    expect(events.map((event) => event.action)).toEqual([
      'user.reactivated',
      'user.deactivated',
      'user.roles_changed',
    ]);
    const [reactivated, deactivated, roles] = events as [TAuditEvent, TAuditEvent, TAuditEvent];
    for (const event of events)
      expect(event).toMatchObject({
        actor: byAdmin(),
        ip: '127.0.0.1',
        userAgent: USER_AGENT,
        target: { type: 'user', id: user.id, label: 'changed@example.com' },
      });
    expect(roles.changes).toEqual({ before: { roles: ['user'] }, after: { roles: ['user', 'moderator'] } });
    expect(deactivated.changes).toEqual({ before: { active: true }, after: { active: false } });
    expect(reactivated.changes).toEqual({ before: { active: false }, after: { active: true } });
    expect(Date.parse(roles.at)).toBeLessThanOrEqual(Date.parse(deactivated.at));
    expect(await eventsAbout(admin.id, 'user.deactivated')).toEqual([]);
  });

  it('records a deletion with what the account was and what went with it', async () => {
    const user = await signInNewUser(suite.server, admin, 'deleted@example.com');
    const deleted = await call(
      'DELETE',
      `/admin/users/${user.id}?confirmEmail=deleted@example.com`,
      undefined,
      admin.token,
    );
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    const events = await eventsAbout(user.id, 'user.deleted');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: byAdmin(),
      changes: { before: { email: 'deleted@example.com', roles: ['user'], active: true }, after: {} },
      details: { deleted: { accounts: 1, refreshTokens: 1 } },
    });
  });

  it('records a lock after repeated wrong passwords once, not before and not again', async () => {
    const user = await signInNewUser(suite.server, admin, 'guessed@example.com');
    const login = (password: string) => call('POST', '/auth/login', { email: user.email, password });
    for (let attempt = 0; attempt < 3; attempt += 1)
      expect((await login(`wrong ${attempt}`)).status).toBe(401);
    expect(await eventsAbout(user.id, 'auth.account_locked')).toEqual([]);
    for (let attempt = 3; attempt < 6; attempt += 1)
      expect((await login(`wrong ${attempt}`)).status).toBe(429);
    const events = await eventsAbout(user.id, 'auth.account_locked');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: { userId: null, via: 'api' },
      ip: '127.0.0.1',
      userAgent: USER_AGENT,
      details: { purpose: 'password', failures: 3 },
    });
  });

  it('records refresh-token reuse', async () => {
    const user = await signInNewUser(suite.server, admin, 'reused@example.com');
    expect((await call('POST', '/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
    expect((await call('POST', '/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(401);
    const events = await eventsAbout(user.id, 'auth.refresh_token_reused');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      target: { label: 'reused@example.com' },
      ip: '127.0.0.1',
      details: { familyId: expect.any(String) },
    });
  });

  it('records password reset requests, resets and changes', async () => {
    const user = await signInNewUser(suite.server, admin, 'forgetful@example.com');
    expect((await call('POST', '/auth/request-password-reset', { email: user.email })).status).toBe(200);
    const token = resetTokenIn(await suite.smtp.waitForMail(user.email, /Reset your gen3d password/));
    expect(
      (await call('POST', '/auth/reset-password', { token, newPassword: 'a new long secret' })).status,
    ).toBe(200);
    const again = await logIn(suite.server, user.email, 'a new long secret');
    expect(
      (
        await call(
          'POST',
          '/auth/change-password',
          { currentPassword: 'a new long secret', newPassword: 'another long secret' },
          again.token,
        )
      ).status,
    ).toBe(200);
    const actions = (await eventsAbout(user.id)).map((event) => event.action);
    expect(actions.filter((action) => action.startsWith('auth.password'))).toEqual([
      'auth.password_changed',
      'auth.password_reset',
      'auth.password_reset_requested',
    ]);
    const [changed] = await eventsAbout(user.id, 'auth.password_changed');
    expect(changed?.actor).toMatchObject({ userId: user.id, email: user.email });
    expect(JSON.stringify(await eventsAbout(user.id))).not.toContain(token);
  });

  it('records admin job changes and asset registration', async () => {
    const user = await signInNewUser(suite.server, admin, 'maker@example.com');
    const created = await call('POST', '/jobs', { prompt: 'an audited cube' }, user.token);
    const jobId = String(created.body.id);
    await followJob(clientFor(suite.server, user), jobId, (update) => update.status === 'running');
    expect((await call('PATCH', `/jobs/${jobId}`, { progress: 42 }, admin.token)).status).toBe(200);
    expect((await call('PATCH', `/jobs/${jobId}`, { status: 'canceled' }, admin.token)).status).toBe(200);
    const [canceled, ...moreCancels] = await eventsAbout(jobId, 'job.canceled_by_admin');
    expect(moreCancels).toEqual([]);
    expect(canceled).toMatchObject({
      actor: byAdmin(),
      target: { type: 'job', id: jobId, label: 'an audited cube' },
      changes: {
        before: { status: 'running' },
        after: { status: expect.stringMatching(/running|canceled/) },
      },
      details: { ownerId: user.id },
    });
    await followJob(clientFor(suite.server, user), jobId, (update) => update.status === 'canceled');
    expect((await call('PATCH', `/jobs/${jobId}`, { status: 'queued' }, admin.token)).status).toBe(200);
    const updates = await eventsAbout(jobId, 'job.updated_by_admin');
    expect(updates.map((event) => [event.changes?.before.status, event.changes?.after.status])).toEqual([
      ['canceled', 'queued'],
      ['running', 'running'],
    ]);
    expect(updates[1]?.changes).toMatchObject({
      before: { progress: expect.any(Number) },
      after: { progress: 42 },
    });
    const job = (await followJob(clientFor(suite.server, user), jobId)).at(-1) as TJob;
    expect(job.status).toBe('succeeded');

    const glb = Buffer.from(
      await (await fetch(job.outputs.find((output) => output.format === 'glb')?.url as string)).arrayBuffer(),
    );
    const asset = await call(
      'POST',
      '/assets',
      { format: 'glb', data: glb.toString('base64'), userId: user.id },
      admin.token,
    );
    expect(asset.status, JSON.stringify(asset.body)).toBe(201);
    const registered = await eventsAbout(String(asset.body.id), 'asset.registered');
    expect(registered).toHaveLength(1);
    expect(registered[0]).toMatchObject({
      actor: byAdmin(),
      changes: { after: { ownerId: user.id, format: 'glb', bytes: glb.length } },
      details: { source: 'upload' },
    });
  });

  it('is for admins only, filters by actor, action and time, pages, and offers no way to change it', async () => {
    const moderator = await signInNewUser(suite.server, admin, 'watcher@example.com');
    await call('PATCH', `/admin/users/${moderator.id}/roles`, { roles: ['user', 'moderator'] }, admin.token);
    const asModerator = await logIn(suite.server, moderator.email, 'user password 1');
    expect((await call('GET', '/admin/audit', undefined, asModerator.token)).status).toBe(403);
    expect((await call('GET', '/admin/audit')).status).toBe(401);

    const all = (await call('GET', '/admin/audit?limit=200', undefined, admin.token)).body;
    const total = (all.pagination as { total: number }).total;
    expect(total).toBeGreaterThan(10);
    const page = await call('GET', '/admin/audit?limit=3&page=2', undefined, admin.token);
    expect(page.body.pagination).toEqual({ page: 2, limit: 3, total, pages: Math.ceil(total / 3) });
    expect((page.body.events as TAuditEvent[]).map((event) => event.id)).toEqual(
      (all.events as TAuditEvent[]).slice(3, 6).map((event) => event.id),
    );
    const byActor = (
      await call(
        'GET',
        `/admin/audit?actorId=${admin.id}&action=user.roles_changed&limit=200`,
        undefined,
        admin.token,
      )
    ).body.events as TAuditEvent[];
    expect(byActor.length).toBeGreaterThanOrEqual(2);
    expect(
      byActor.every((event) => event.actor.userId === admin.id && event.action === 'user.roles_changed'),
    ).toBe(true);
    const future = (
      await call(
        'GET',
        `/admin/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
        undefined,
        admin.token,
      )
    ).body.events as TAuditEvent[];
    expect(future).toEqual([]);
    expect((await call('GET', '/admin/audit?action=user.exploded', undefined, admin.token)).status).toBe(400);

    const someId = (all.events as TAuditEvent[])[0]?.id;
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      expect((await call(method, '/admin/audit', {}, admin.token)).status).toBe(404);
      expect((await call(method, `/admin/audit/${someId}`, {}, admin.token)).status).toBe(404);
    }
  });

  it('keeps events for AUDIT_RETENTION_DAYS with a TTL index, changed in place when the setting changes', async () => {
    const indexes = async () =>
      suite.server.app.database.connection.collection('audit_events').listIndexes().toArray();
    expect((await indexes()).find((index) => index.name === 'at_retention')?.expireAfterSeconds).toBe(
      90 * 86_400,
    );
    const second = await startTestServer(suite.database, {
      mongodbUri: suite.server.mongodbUri,
      env: { AUDIT_RETENTION_DAYS: '30' },
    });
    try {
      expect((await indexes()).find((index) => index.name === 'at_retention')?.expireAfterSeconds).toBe(
        30 * 86_400,
      );
    } finally {
      await second.close();
    }
  });
});
