import { describe, expect, it } from 'vitest';

import { logIn, runAdminScript } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer();

const runScript = (name: string, args: string[]) => runAdminScript(suite.server, name, args);
const login = (email: string, password: string) => logIn(suite.server, email, password);

describe('admin scripts, roles and users', () => {
  it('covers the account lifecycle across scripts, REST and role checks', { timeout: 300_000 }, async () => {
    const created = await runScript('create-admin', [
      '--email',
      'root@example.com',
      '--password',
      'admin password 1',
    ]);
    expect(created.code, created.output).toBe(0);
    const admin = await login('root@example.com', 'admin password 1');

    // Users are created by admins only.
    const newUser = await callRest(
      suite.server.url,
      'POST',
      '/users',
      { email: 'lin@example.com', userName: 'Lin', password: 'lin password 1' },
      admin.token,
    );
    expect(newUser.status, JSON.stringify(newUser.body)).toBe(201);
    const lin = await login('lin@example.com', 'lin password 1');
    expect(
      (
        await callRest(
          suite.server.url,
          'POST',
          '/users',
          { email: 'x@example.com', userName: 'X', password: 'password 12' },
          lin.token,
        )
      ).status,
    ).toBe(403);
    const duplicate = await callRest(
      suite.server.url,
      'POST',
      '/users',
      { email: 'lin@example.com', userName: 'Lin2', password: 'lin password 1' },
      admin.token,
    );
    expect(duplicate.status).toBe(409);

    // Listing is for staff; users see others' public profiles only.
    expect((await callRest(suite.server.url, 'GET', '/users', undefined, lin.token)).status).toBe(403);
    const listed = await callRest(
      suite.server.url,
      'GET',
      '/users?page=1&limit=1&search=li',
      undefined,
      admin.token,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.pagination).toEqual({ page: 1, limit: 1, total: 1, pages: 1 });
    const rootSeenByLin = await callRest(suite.server.url, 'GET', `/users/${admin.id}`, undefined, lin.token);
    expect(rootSeenByLin.body).not.toHaveProperty('email');
    expect(rootSeenByLin.body).not.toHaveProperty('settings');
    const linSeenByLin = await callRest(suite.server.url, 'GET', `/users/${lin.id}`, undefined, lin.token);
    expect(linSeenByLin.body).toMatchObject({ email: 'lin@example.com', settings: { theme: 'system' } });

    // Nobody raises their own role; owners change only their own name, profile and settings.
    expect(
      (await callRest(suite.server.url, 'PATCH', `/users/${lin.id}`, { roles: ['admin'] }, lin.token)).status,
    ).toBe(403);
    expect(
      (await callRest(suite.server.url, 'PATCH', `/users/${admin.id}`, { userName: 'Pwned' }, lin.token))
        .status,
    ).toBe(403);
    expect(
      (await callRest(suite.server.url, 'PATCH', `/users/${admin.id}`, { roles: ['user'] }, admin.token))
        .status,
    ).toBe(403);
    const renamed = await callRest(
      suite.server.url,
      'PATCH',
      `/users/${lin.id}`,
      { userName: 'Lin Wei', profile: { bio: 'hi' } },
      lin.token,
    );
    expect(renamed.body).toMatchObject({ userName: 'Lin Wei', profile: { bio: 'hi' }, roles: ['user'] });

    // set-roles makes a moderator, who may list users but not create them.
    const promoted = await runScript('set-roles', [
      '--email',
      'lin@example.com',
      '--roles',
      'user,moderator',
    ]);
    expect(promoted.code, promoted.output).toBe(0);
    expect((await callRest(suite.server.url, 'GET', '/users', undefined, lin.token)).status).toBe(200);

    // The last active admin cannot be demoted.
    const demote = await runScript('set-roles', ['--email', 'root@example.com', '--roles', 'user']);
    expect(demote.code).toBe(1);
    expect(demote.output).toContain('last active admin');

    // Deactivation ends sessions at once and blocks login; reactivation restores login.
    const deactivated = await callRest(
      suite.server.url,
      'PATCH',
      `/users/${lin.id}`,
      { active: false },
      admin.token,
    );
    expect(deactivated.body).toMatchObject({ active: false });
    expect((await callRest(suite.server.url, 'GET', '/auth/me', undefined, lin.token)).status).toBe(401);
    expect(
      (await callRest(suite.server.url, 'POST', '/auth/refresh', { refreshToken: lin.refreshToken })).status,
    ).toBe(401);
    const blocked = await callRest(suite.server.url, 'POST', '/auth/login', {
      email: 'lin@example.com',
      password: 'lin password 1',
    });
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe('ACCOUNT_DISABLED');
    expect((await runScript('deactivate', ['--email', 'lin@example.com', '--reactivate'])).code).toBe(0);
    await login('lin@example.com', 'lin password 1');

    // Scripts are idempotent and fail clearly.
    const again = await runScript('create-admin', [
      '--email',
      'root@example.com',
      '--password',
      'admin password 1',
    ]);
    expect(again.code).toBe(0);
    expect(again.output).toContain('already had an account');
    const unknown = await runScript('deactivate', ['--email', 'nobody@example.com']);
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('No account with the email');
    const usage = await runScript('set-roles', ['--email', 'root@example.com', '--roles', 'emperor']);
    expect(usage.code).toBe(2);
    expect(usage.output).toContain('usage: pnpm set-roles');
  });

  it('keeps an active admin when two admins demote each other at the same moment', async () => {
    expect(
      (await runScript('create-admin', ['--email', 'duel-a@example.com', '--password', 'duel password a']))
        .code,
    ).toBe(0);
    const a = await login('duel-a@example.com', 'duel password a');
    const created = await callRest(
      suite.server.url,
      'POST',
      '/users',
      {
        email: 'duel-b@example.com',
        userName: 'Duel B',
        password: 'duel password b',
        roles: ['user', 'admin'],
      },
      a.token,
    );
    expect(created.status).toBe(201);
    const b = await login('duel-b@example.com', 'duel password b');
    // Leave exactly these two active admins.
    const others = await callRest(suite.server.url, 'GET', '/users?limit=100', undefined, a.token);
    for (const user of others.body.users as Array<{ id: string; roles: string[]; active: boolean }>) {
      if (user.roles.includes('admin') && user.active && user.id !== a.id && user.id !== b.id) {
        expect(
          (await callRest(suite.server.url, 'PATCH', `/users/${user.id}`, { active: false }, a.token)).status,
        ).toBe(200);
      }
    }
    const answers = await Promise.all([
      callRest(suite.server.url, 'PATCH', `/users/${b.id}`, { roles: ['user'] }, a.token),
      callRest(suite.server.url, 'PATCH', `/users/${a.id}`, { roles: ['user'] }, b.token),
    ]);
    expect(answers.map((answer) => answer.status).sort()).not.toEqual([200, 200]);
    const after = await callRest(
      suite.server.url,
      'GET',
      '/users?limit=100',
      undefined,
      answers[0]?.status === 200 ? a.token : b.token,
    );
    const activeAdmins = (after.body.users as Array<{ roles: string[]; active: boolean }>).filter(
      (user) => user.active && user.roles.includes('admin'),
    );
    expect(activeAdmins.length).toBeGreaterThanOrEqual(1);
  });
});
