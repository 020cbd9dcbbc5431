import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';

import { createGen3dClient } from '@gen3d/client';

import { logIn, signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

// Many logins from one address: the per-IP auth limit is tested elsewhere.
const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' } });

function sdkAs(account: SignedIn) {
  return createGen3dClient({
    url: suite.server.url,
    headers: () => ({ authorization: `Bearer ${account.token}` }),
  });
}

function emailsOf(body: Record<string, unknown>): string[] {
  return (body.users as Array<{ email: string }>).map((user) => user.email).sort();
}

/** Records in the server's database that point at the user. */
async function recordsOf(
  userId: string,
): Promise<{ users: number; refreshTokens: number; passwordResets: number }> {
  const db = suite.server.app.database.connection;
  const _id = new Types.ObjectId(userId);
  return {
    users: await db.collection('users').countDocuments({ _id }),
    refreshTokens: await db.collection('refreshfamilies').countDocuments({ userId: _id }),
    passwordResets: await db.collection('passwordresets').countDocuments({ userId: _id }),
  };
}

describe('admin user management', () => {
  it('lists with filters, changes roles, deactivates, reactivates and deletes, for admins only', async () => {
    const { url } = suite.server;
    const admin = await signInNewAdmin(suite.server);
    const mod = await signInNewUser(suite.server, admin, 'mod@example.com');
    await callRest(
      url,
      'PATCH',
      `/admin/users/${mod.id}/roles`,
      { roles: ['user', 'moderator'] },
      admin.token,
    );
    const ana = await signInNewUser(suite.server, admin, 'ana@example.com');
    const ben = await signInNewUser(suite.server, admin, 'ben@example.com');

    // Role checks: users get 403 everywhere, moderators may only read.
    const writes: Array<[method: 'PATCH' | 'POST' | 'DELETE', path: string, body?: unknown]> = [
      ['PATCH', `/admin/users/${ben.id}/roles`, { roles: ['admin'] }],
      ['POST', `/admin/users/${ben.id}/deactivate`],
      ['POST', `/admin/users/${ben.id}/reactivate`],
      ['DELETE', `/admin/users/${ben.id}?confirmEmail=ben@example.com`],
    ];
    for (const caller of [ana, mod]) {
      for (const [method, path, body] of writes) {
        const answer = await callRest(url, method, path, body, caller.token);
        expect(answer.status, `${method} ${path}`).toBe(403);
        expect(answer.body.code).toBe('FORBIDDEN');
      }
    }
    expect((await callRest(url, 'GET', '/admin/users', undefined, ana.token)).status).toBe(403);
    expect((await callRest(url, 'GET', '/admin/users', undefined, mod.token)).status).toBe(200);
    expect((await recordsOf(ben.id)).users).toBe(1);

    // Filters, from a query string (REST) and as booleans (SDK).
    const moderators = await callRest(url, 'GET', '/admin/users?role=moderator', undefined, mod.token);
    expect(emailsOf(moderators.body)).toEqual(['mod@example.com']);
    const deactivated = await callRest(
      url,
      'POST',
      `/admin/users/${ana.id}/deactivate`,
      undefined,
      admin.token,
    );
    expect(deactivated.status).toBe(200);
    expect(deactivated.body).toMatchObject({ ok: true, user: { id: ana.id, active: false } });
    expect(
      emailsOf((await callRest(url, 'GET', '/admin/users?active=false', undefined, admin.token)).body),
    ).toEqual(['ana@example.com']);
    expect(
      emailsOf(
        (
          await callRest(
            url,
            'GET',
            '/admin/users?active=true&verified=true&search=b',
            undefined,
            admin.token,
          )
        ).body,
      ),
    ).toEqual(['ben@example.com']);
    // GET /users and GET /admin/users are one listing under two paths.
    const filters = '?active=true&verified=true&search=b&limit=5';
    const fromUsers = await callRest(url, 'GET', `/users${filters}`, undefined, mod.token);
    expect(fromUsers.status).toBe(200);
    expect(fromUsers.body).toEqual(
      (await callRest(url, 'GET', `/admin/users${filters}`, undefined, mod.token)).body,
    );
    expect(fromUsers.body.pagination).toEqual({ page: 1, limit: 5, total: 1, pages: 1 });
    const inactive = await sdkAs(admin).admin.users.list.query({ active: false });
    expect(inactive.users.map((user) => user.email)).toEqual(['ana@example.com']);
    const badFilter = await callRest(url, 'GET', '/admin/users?active=maybe', undefined, admin.token);
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.code).toBe('VALIDATION_FAILED');

    // Deactivation ends sessions at once; reactivation lets the user back in.
    expect((await callRest(url, 'GET', '/auth/me', undefined, ana.token)).status).toBe(401);
    expect((await callRest(url, 'POST', '/auth/refresh', { refreshToken: ana.refreshToken })).status).toBe(
      401,
    );
    expect(
      (await callRest(url, 'POST', '/auth/login', { email: 'ana@example.com', password: 'user password 1' }))
        .body.code,
    ).toBe('ACCOUNT_DISABLED');
    const reactivated = await sdkAs(admin).admin.users.reactivate.mutate({ id: ana.id });
    expect(reactivated).toMatchObject({ ok: true, user: { active: true } });
    await logIn(suite.server, 'ana@example.com', 'user password 1');

    // Roles: the answer shows the new roles; nobody changes their own.
    const promoted = await callRest(
      url,
      'PATCH',
      `/admin/users/${ben.id}/roles`,
      { roles: ['user', 'admin'] },
      admin.token,
    );
    expect(promoted.body).toMatchObject({ ok: true, user: { roles: ['user', 'admin'] } });
    const own = await callRest(
      url,
      'PATCH',
      `/admin/users/${admin.id}/roles`,
      { roles: ['user'] },
      admin.token,
    );
    expect(own.status).toBe(403);
    const unknownRole = await callRest(
      url,
      'PATCH',
      `/admin/users/${ben.id}/roles`,
      { roles: ['emperor'] },
      admin.token,
    );
    expect(unknownRole.status).toBe(400);
  });

  it('deletes an account with everything it owns only when the email is repeated', async () => {
    const { url } = suite.server;
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const cho = await signInNewUser(suite.server, admin, 'cho@example.com');
    await logIn(suite.server, 'cho@example.com', 'user password 1');
    await callRest(url, 'POST', '/auth/request-password-reset', { email: 'cho@example.com' });
    const before = await recordsOf(cho.id);
    expect(before).toEqual({ users: 1, refreshTokens: 2, passwordResets: 1 });

    const missing = await callRest(url, 'DELETE', `/admin/users/${cho.id}`, undefined, admin.token);
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('VALIDATION_FAILED');
    const mismatch = await callRest(
      url,
      'DELETE',
      `/admin/users/${cho.id}?confirmEmail=someone@example.com`,
      undefined,
      admin.token,
    );
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toMatchObject({
      code: 'CONFIRMATION_MISMATCH',
      error: expect.stringContaining('confirmEmail'),
    });
    const injected = await callRest(
      url,
      'DELETE',
      `/admin/users/${cho.id}?confirmEmail[$ne]=x`,
      undefined,
      admin.token,
    );
    expect(injected.status).toBe(400);
    const self = await callRest(
      url,
      'DELETE',
      `/admin/users/${admin.id}?confirmEmail=root@example.com`,
      undefined,
      admin.token,
    );
    expect(self.status).toBe(403);
    expect(await recordsOf(cho.id)).toEqual(before);
    expect((await callRest(url, 'GET', '/auth/me', undefined, cho.token)).status).toBe(200);

    const deleted = await callRest(
      url,
      'DELETE',
      `/admin/users/${cho.id}?confirmEmail=Cho@Example.com`,
      undefined,
      admin.token,
    );
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body).toMatchObject({
      ok: true,
      deleted: {
        accounts: 1,
        refreshTokens: 2,
        passwordResets: 1,
        jobs: 0,
        assets: 0,
        messages: 0,
        chats: 0,
      },
    });
    expect(await recordsOf(cho.id)).toEqual({ users: 0, refreshTokens: 0, passwordResets: 0 });

    // The deleted account's tokens and credentials are dead; the id is gone.
    const me = await callRest(url, 'GET', '/auth/me', undefined, cho.token);
    expect(me.status).toBe(401);
    expect((await callRest(url, 'POST', '/auth/refresh', { refreshToken: cho.refreshToken })).status).toBe(
      401,
    );
    expect(
      (await callRest(url, 'POST', '/auth/login', { email: 'cho@example.com', password: 'user password 1' }))
        .body.code,
    ).toBe('INVALID_CREDENTIALS');
    expect((await callRest(url, 'GET', `/users/${cho.id}`, undefined, admin.token)).status).toBe(404);
    expect(
      (
        await callRest(
          url,
          'DELETE',
          `/admin/users/${cho.id}?confirmEmail=cho@example.com`,
          undefined,
          admin.token,
        )
      ).status,
    ).toBe(404);

    // Through the SDK as well; the email is free for a new account afterwards.
    const dev = await signInNewUser(suite.server, admin, 'dev@example.com');
    const viaSdk = await sdkAs(admin).admin.users.delete.mutate({
      id: dev.id,
      confirmEmail: 'dev@example.com',
    });
    expect(viaSdk.deleted.accounts).toBe(1);
    await signInNewUser(suite.server, admin, 'dev@example.com');
  });
});
