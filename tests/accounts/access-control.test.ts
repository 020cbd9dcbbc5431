import { beforeAll, describe, expect, it } from 'vitest';

import { Gen3dError, type RouterInputs, type TAuditEvent } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer();
let admin: SignedIn;
let moderator: SignedIn;
let ana: SignedIn;
let ben: SignedIn;

const rest = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, account: SignedIn) =>
  callRest(suite.server.url, method, path, body, account.token);
const sdk = (account: SignedIn) => clientFor(suite.server, account);

/** The error a tRPC call rejects with; fails the test when the call succeeds. */
async function rejectionOf(call: Promise<unknown>): Promise<Gen3dError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Gen3dError);
  return outcome.error as Gen3dError;
}

/** Input the SDK's types would refuse, sent anyway as an attacker would. */
const hostile = <T>(input: unknown): T => input as T;

beforeAll(async () => {
  admin = await signInNewAdmin(suite.server);
  moderator = await signInNewUser(suite.server, admin, 'moderator@example.com');
  const promoted = await rest('PATCH', `/admin/users/${moderator.id}/roles`, { roles: ['moderator'] }, admin);
  expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
  ana = await signInNewUser(suite.server, admin, 'ana@example.com');
  ben = await signInNewUser(suite.server, admin, 'ben@example.com');
});

describe('message roles (issue 15 item 7)', () => {
  it('refuses system and assistant messages from a chat owner over REST and tRPC, and writes none', async () => {
    const chat = await rest('POST', '/chats', { title: 'Roles' }, ana);
    const chatId = String(chat.body.id);
    for (const role of ['system', 'assistant']) {
      const viaRest = await rest('POST', '/messages', { chatId, role, content: `forged ${role}` }, ana);
      expect(viaRest.status, JSON.stringify(viaRest.body)).toBe(400);
      expect(viaRest.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        issues: [{ path: 'role', message: expect.stringContaining('written by the server') }],
      });
      const viaTrpc = await rejectionOf(
        sdk(ana).messages.create.mutate(
          hostile<RouterInputs['messages']['create']>({ chatId, role, content: `forged ${role}` }),
        ),
      );
      expect(viaTrpc.code).toBe('VALIDATION_FAILED');
      expect(viaTrpc.status).toBe(400);
    }
    const listed = await rest('GET', `/messages?chatId=${chatId}`, undefined, ana);
    expect(listed.body).toEqual([]);
  });

  it('refuses them from admins too, in their own chat', async () => {
    const chat = await rest('POST', '/chats', { title: 'Admin roles' }, admin);
    const chatId = String(chat.body.id);
    const viaRest = await rest('POST', '/messages', { chatId, role: 'system', content: 'x' }, admin);
    expect(viaRest.status).toBe(400);
    const viaTrpc = await rejectionOf(
      sdk(admin).messages.create.mutate(
        hostile<RouterInputs['messages']['create']>({ chatId, role: 'assistant', content: 'x' }),
      ),
    );
    expect(viaTrpc.code).toBe('VALIDATION_FAILED');
  });

  it('still takes user messages, with or without the role field', async () => {
    const chat = await rest('POST', '/chats', { title: 'User roles' }, ana);
    const chatId = String(chat.body.id);
    const named = await rest('POST', '/messages', { chatId, role: 'user', content: 'hello' }, ana);
    expect(named.status, JSON.stringify(named.body)).toBe(201);
    expect(named.body).toMatchObject({ role: 'user', content: 'hello' });
    const unnamed = await sdk(ana).messages.create.mutate({ chatId, content: 'again' });
    expect(unnamed).toMatchObject({ role: 'user', content: 'again' });
  });
});

describe('user profiles (issue 15 item 8)', () => {
  const PUBLIC_FIELDS = ['_id', 'createdAt', 'id', 'profile', 'userName'];

  it('shows another plain user only the public profile, over REST and tRPC', async () => {
    for (const other of [ben, admin, moderator]) {
      const viaRest = await rest('GET', `/users/${other.id}`, undefined, ana);
      expect(viaRest.status).toBe(200);
      expect(Object.keys(viaRest.body).sort()).toEqual(PUBLIC_FIELDS);
      expect(viaRest.body.id).toBe(other.id);
      const viaTrpc = await sdk(ana).users.get.query({ id: other.id });
      expect(Object.keys(viaTrpc).sort()).toEqual(PUBLIC_FIELDS);
    }
  });

  it('shows the owner the whole account, and the same through an upper-case id', async () => {
    for (const id of [ana.id, ana.id.toUpperCase()]) {
      const viaRest = await rest('GET', `/users/${id}`, undefined, ana);
      expect(viaRest.status).toBe(200);
      expect(viaRest.body).toMatchObject({
        id: ana.id,
        email: 'ana@example.com',
        roles: ['user'],
        active: true,
        emailVerified: true,
        settings: { theme: 'system' },
      });
      const viaTrpc = await sdk(ana).users.get.query({ id });
      expect(viaTrpc).toMatchObject({ id: ana.id, roles: ['user'], active: true, emailVerified: true });
    }
  });

  it('shows moderators the account without its settings, and admins all of it', async () => {
    const seenByModerator = await rest('GET', `/users/${ben.id}`, undefined, moderator);
    expect(seenByModerator.body).toMatchObject({
      email: 'ben@example.com',
      roles: ['user'],
      active: true,
      emailVerified: true,
    });
    expect(seenByModerator.body).not.toHaveProperty('settings');
    const seenByAdmin = await sdk(admin).users.get.query({ id: ben.id });
    expect(seenByAdmin).toMatchObject({ email: 'ben@example.com', roles: ['user'], settings: {} });
  });
});

describe('ids compared as ids (issue 15 item 9)', () => {
  it('keeps a sole admin from demoting, deactivating or deleting themselves through an upper-case id', async () => {
    const own = admin.id.toUpperCase();
    const before = await rest('GET', `/users/${admin.id}`, undefined, admin);
    expect(before.body.roles).toContain('admin');
    const attempts = [
      await rest('PATCH', `/admin/users/${own}/roles`, { roles: ['user'] }, admin),
      await rest('PATCH', `/users/${own}`, { roles: ['user'] }, admin),
      await rest('PATCH', `/users/${own}`, { active: false }, admin),
      await rest('POST', `/admin/users/${own}/deactivate`, undefined, admin),
      await rest('DELETE', `/admin/users/${own}?confirmEmail=${admin.email}`, undefined, admin),
    ];
    expect(attempts.map((attempt) => [attempt.status, attempt.body.code])).toEqual(
      attempts.map(() => [403, 'FORBIDDEN']),
    );
    const client = sdk(admin);
    const refusals = [
      await rejectionOf(client.admin.users.setRoles.mutate({ id: own, roles: ['user'] })),
      await rejectionOf(client.users.update.mutate({ id: own, roles: ['moderator'] })),
      await rejectionOf(client.admin.users.deactivate.mutate({ id: own })),
      await rejectionOf(client.admin.users.delete.mutate({ id: own, confirmEmail: admin.email })),
    ];
    expect(refusals.map((refusal) => refusal.code)).toEqual(refusals.map(() => 'FORBIDDEN'));
    const after = await rest('GET', `/users/${admin.id}`, undefined, admin);
    expect(after.body).toMatchObject({ roles: before.body.roles, active: true });
  });

  it('keeps the rules when a second admin could take over: no self role change through any spelling', async () => {
    const second = await signInNewUser(suite.server, admin, 'second-admin@example.com');
    const promoted = await rest('PATCH', `/admin/users/${second.id}/roles`, { roles: ['admin'] }, admin);
    expect(promoted.status).toBe(200);
    const own = second.id.toUpperCase();
    const viaRest = await rest(
      'PATCH',
      `/admin/users/${own}/roles`,
      { roles: ['user', 'moderator'] },
      second,
    );
    expect([viaRest.status, viaRest.body.code]).toEqual([403, 'FORBIDDEN']);
    const viaTrpc = await rejectionOf(sdk(second).admin.users.setRoles.mutate({ id: own, roles: ['user'] }));
    expect(viaTrpc.code).toBe('FORBIDDEN');
    const deactivate = await rest('POST', `/admin/users/${own}/deactivate`, undefined, second);
    expect(deactivate.status).toBe(403);
    const remove = await rest(
      'DELETE',
      `/admin/users/${own}?confirmEmail=${second.email}`,
      undefined,
      second,
    );
    expect(remove.status).toBe(403);
    const after = await rest('GET', `/users/${second.id}`, undefined, admin);
    expect(after.body).toMatchObject({ roles: ['admin'], active: true });
  });

  it('lets a plain user use an upper-case id of their own account: profile changes and analytics', async () => {
    const own = ana.id.toUpperCase();
    const renamed = await rest('PATCH', `/users/${own}`, { userName: 'Ana Upper' }, ana);
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body).toMatchObject({ id: ana.id, userName: 'Ana Upper', email: 'ana@example.com' });
    const viaTrpc = await sdk(ana).users.update.mutate({ id: own, profile: { bio: 'upper' } });
    expect(viaTrpc).toMatchObject({ id: ana.id, profile: { bio: 'upper' } });
    const stats = await rest('GET', `/analytics/stats?userId=${own}`, undefined, ana);
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect((await sdk(ana).analytics.stats.query({ userId: own })).jobs.total).toBe(0);
    // Someone else's id stays someone else's, in any spelling.
    const others = await rest('PATCH', `/users/${ben.id.toUpperCase()}`, { userName: 'Taken' }, ana);
    expect(others.status).toBe(403);
  });
});

describe('email changes by admins are audited (issue 15 item 12)', () => {
  async function eventsAbout(targetId: string, action: string): Promise<TAuditEvent[]> {
    const answer = await rest('GET', `/admin/audit?targetId=${targetId}&action=${action}`, undefined, admin);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.events as TAuditEvent[];
  }

  it('records an email change and a verification change with before and after, over REST and tRPC', async () => {
    const cleo = await signInNewUser(suite.server, admin, 'cleo@example.com');
    const changed = await rest('PATCH', `/users/${cleo.id}`, { email: 'Cleo.New@example.com' }, admin);
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const [emailEvent, ...moreEmail] = await eventsAbout(cleo.id, 'user.email_changed');
    expect(moreEmail).toEqual([]);
    expect(emailEvent).toMatchObject({
      actor: { userId: admin.id, email: admin.email, via: 'api' },
      target: { type: 'user', id: cleo.id, label: 'cleo.new@example.com' },
      changes: { before: { email: 'cleo@example.com' }, after: { email: 'cleo.new@example.com' } },
    });

    await sdk(admin).users.update.mutate({ id: cleo.id.toUpperCase(), emailVerified: false });
    const [verification, ...moreVerification] = await eventsAbout(cleo.id, 'user.email_verification_changed');
    expect(moreVerification).toEqual([]);
    expect(verification).toMatchObject({
      actor: { userId: admin.id, via: 'api' },
      target: { type: 'user', id: cleo.id },
      changes: { before: { emailVerified: true }, after: { emailVerified: false } },
    });
    expect(verification?.details).toBeNull();

    // Setting the values they already have changes nothing and records nothing.
    await rest('PATCH', `/users/${cleo.id}`, { email: 'cleo.new@example.com', emailVerified: false }, admin);
    expect(await eventsAbout(cleo.id, 'user.email_changed')).toHaveLength(1);
    expect(await eventsAbout(cleo.id, 'user.email_verification_changed')).toHaveLength(1);
  });

  it('records nothing when the email is taken (409)', async () => {
    const dee = await signInNewUser(suite.server, admin, 'dee@example.com');
    const taken = await rest('PATCH', `/users/${dee.id}`, { email: 'ana@example.com' }, admin);
    expect([taken.status, taken.body.code]).toEqual([409, 'CONFLICT']);
    expect(await eventsAbout(dee.id, 'user.email_changed')).toEqual([]);
  });
});
