import { beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000', WEBHOOK_ALLOWED_HOSTS: 'localhost' } });

interface Operation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  procedure: string;
}

interface Owned {
  chatId: string;
  messageId: string;
  jobId: string;
  assetId: string;
  userId: string;
  webhookId: string;
  keyId: string;
}

/** What a caller without the role gets: staff-only operations, with an input that would otherwise pass. */
const STAFF_ONLY: Record<string, (owned: Owned) => Record<string, unknown> | undefined> = {
  'users-list': () => undefined,
  'users-create': () => ({ email: 'made@example.com', userName: 'made', password: 'a long made password' }),
  'admin-stats': () => undefined,
  'admin-modelServers': () => undefined,
  'admin-users-list': () => undefined,
  'admin-users-get': ({ userId }) => ({ id: userId }),
  'admin-users-delete': ({ userId }) => ({ id: userId, confirmEmail: 'owner@example.com' }),
  'admin-users-setRoles': ({ userId }) => ({ id: userId, roles: ['user', 'admin'] }),
  'admin-users-deactivate': ({ userId }) => ({ id: userId }),
  'admin-users-reactivate': ({ userId }) => ({ id: userId }),
  'admin-jobs-list': () => undefined,
  'admin-audit-list': () => undefined,
  'jobs-update': ({ jobId }) => ({ id: jobId, progress: 50 }),
  'assets-register': ({ userId }) => ({ format: 'glb', sourceUrl: 'https://example.com/a.glb', userId }),
  'admin-keys-list': ({ userId }) => ({ userId }),
  'admin-keys-revoke': ({ keyId }) => ({ id: keyId }),
  'analytics-rebuildRollups': () => undefined,
};

/** Operations that take another user's object: the answer must be the one for an object that does not exist. */
const OWNED_BY_SOMEONE_ELSE: Record<string, (owned: Owned) => Record<string, unknown>> = {
  'chats-rename': ({ chatId }) => ({ id: chatId, title: 'taken over' }),
  'chats-delete': ({ chatId }) => ({ id: chatId }),
  'messages-list': ({ chatId }) => ({ chatId }),
  'messages-create': ({ chatId }) => ({ chatId, role: 'user', content: 'hello', type: 'text' }),
  'generation-create': ({ chatId }) => ({ prompt: 'a fox', chatId }),
  'generation-generate': ({ chatId }) => ({ prompt: 'a fox', chatId }),
  'jobs-get': ({ jobId }) => ({ id: jobId }),
  'jobs-cancel': ({ jobId }) => ({ id: jobId }),
  'postprocessing-create': ({ assetId }) => ({ id: assetId, kind: 'weld' }),
  'webhooks-get': ({ webhookId }) => ({ id: webhookId }),
  'webhooks-update': ({ webhookId }) => ({ id: webhookId, url: 'http://localhost:1/taken-over' }),
  'webhooks-delete': ({ webhookId }) => ({ id: webhookId }),
  'webhooks-rotateSecret': ({ webhookId }) => ({ id: webhookId }),
  'webhooks-deliveries': ({ webhookId }) => ({ id: webhookId }),
  'webhooks-redeliver': ({ webhookId }) => ({ id: webhookId, deliveryId: `msg_${'0'.repeat(32)}` }),
  'apiKeys-revoke': ({ keyId }) => ({ id: keyId }),
};

/** Operations on objects anyone may see (public profiles): refused as not the caller's to change. */
const VISIBLE_BUT_NOT_YOURS: Record<string, (owned: Owned) => Record<string, unknown>> = {
  'users-update': ({ userId }) => ({ id: userId, userName: 'taken over' }),
};

/** Every other operation, and why it takes no object of another user. */
const NOT_OBJECT_SCOPED: Record<string, string> = {
  'system-info': 'public build information',
  'auth-register': 'public',
  'auth-verifyRegistration': 'public',
  'auth-login': 'public',
  'auth-refresh': 'acts on the token presented',
  'auth-logout': 'acts on the token presented',
  'auth-logoutEverywhere': "the caller's own sessions",
  'auth-me': 'the caller',
  'auth-updateMe': 'the caller',
  'auth-changePassword': 'the caller',
  'auth-requestPasswordReset': 'public',
  'auth-resetPassword': 'acts on the token presented',
  'users-get': 'public profiles (the public view is tested in users-and-roles)',
  'analytics-stats': "the caller's own figures",
  'analytics-dashboard': "the caller's own figures",
  'analytics-generationMetrics': "the caller's own figures",
  'analytics-popularPrompts': "the caller's own figures",
  'analytics-chatStats': "the caller's own figures",
  'chats-list': "the caller's chats",
  'chats-create': 'creates',
  'jobs-list': "the caller's jobs",
  'assets-list': "the caller's assets (a foreign jobId is tested below)",
  'assets-uploadImage': "a new image of the caller's; it names no existing object",
  'webhooks-list': "the caller's endpoints",
  'webhooks-create': 'creates',
  'apiKeys-create': 'creates',
  'apiKeys-list': "the caller's keys",
};

let operations: Operation[];
let admin: SignedIn;
let owner: SignedIn;
let intruder: SignedIn;
let owned: Owned;

beforeAll(async () => {
  const { server } = suite;
  const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { operationId: string }>>;
  };
  operations = Object.entries(document.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({
      method: method.toUpperCase() as Operation['method'],
      path,
      procedure: operation.operationId,
    })),
  );
  admin = await signInNewAdmin(server);
  owner = await signInNewUser(server, admin, 'owner@example.com');
  intruder = await signInNewUser(server, admin, 'intruder@example.com');
  const chat = await callRest(server.url, 'POST', '/chats', { title: 'mine' }, owner.token);
  const chatId = String(chat.body.id);
  const message = await callRest(
    server.url,
    'POST',
    '/messages',
    { chatId, role: 'user', content: 'a fox', type: 'text' },
    owner.token,
  );
  const job = await callRest(server.url, 'POST', '/jobs', { prompt: 'a fox', chatId }, owner.token);
  const jobId = String(job.body.id);
  const updates = await followJob(clientFor(server, owner), jobId);
  const assetId = updates.at(-1)?.outputs?.[0]?.assetId;
  const webhook = await callRest(
    server.url,
    'POST',
    '/webhooks',
    { url: 'http://localhost:1/hook', events: ['job.succeeded'] },
    owner.token,
  );
  const key = await callRest(
    server.url,
    'POST',
    '/keys',
    { name: 'mine', scopes: ['jobs:read'] },
    owner.token,
  );
  owned = {
    chatId,
    messageId: String(message.body.id),
    jobId,
    assetId: String(assetId),
    userId: owner.id,
    webhookId: String(webhook.body.id),
    keyId: String(key.body.id),
  };
});

/** Calls an operation over REST: path parameters from the input, the rest as query (GET, DELETE) or body. */
async function overRest(operation: Operation, input: Record<string, unknown> | undefined, token: string) {
  const inPath = new Set([...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]));
  const path = operation.path.replace(/\{(\w+)\}/g, (_whole, name: string) =>
    encodeURIComponent(String(input?.[name])),
  );
  const rest = Object.fromEntries(Object.entries(input ?? {}).filter(([name]) => !inPath.has(name)));
  if (operation.method === 'GET' || operation.method === 'DELETE') {
    const query = new URLSearchParams(Object.entries(rest).map(([key, value]) => [key, String(value)]));
    const suffix = query.size > 0 ? `?${query}` : '';
    return callRest(suite.server.url, operation.method, `${path}${suffix}`, undefined, token);
  }
  return callRest(suite.server.url, operation.method, path, input === undefined ? undefined : rest, token);
}

/** Calls the same procedure over tRPC's HTTP protocol. */
async function overTrpc(operation: Operation, input: Record<string, unknown> | undefined, token: string) {
  const procedure = operation.procedure.replaceAll('-', '.');
  const url = `${suite.server.url}/trpc/${procedure}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const response =
    operation.method === 'GET'
      ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, {
          headers,
        })
      : await fetch(url, { method: 'POST', headers, body: JSON.stringify(input ?? null) });
  const body = (await response.json()) as { error?: { data?: { code?: string } } };
  return { status: response.status, code: body.error?.data?.code };
}

describe('access control over every operation of /openapi.json', () => {
  it('classifies every operation, so a new one cannot go unchecked', () => {
    const classified = new Set([
      ...Object.keys(STAFF_ONLY),
      ...Object.keys(OWNED_BY_SOMEONE_ELSE),
      ...Object.keys(VISIBLE_BUT_NOT_YOURS),
      ...Object.keys(NOT_OBJECT_SCOPED),
    ]);
    expect(operations.map(({ procedure }) => procedure).filter((id) => !classified.has(id))).toEqual([]);
  });

  it("refuses staff operations and changes to others' public profiles to a plain user with 403 on REST and tRPC", async () => {
    const refused = { ...STAFF_ONLY, ...VISIBLE_BUT_NOT_YOURS };
    for (const operation of operations.filter(({ procedure }) => procedure in refused)) {
      const input = refused[operation.procedure]?.(owned);
      const rest = await overRest(operation, input, intruder.token);
      expect([rest.status, rest.body.code], `${operation.method} ${operation.path}`).toEqual([
        403,
        'FORBIDDEN',
      ]);
      const trpc = await overTrpc(operation, input, intruder.token);
      expect([trpc.status, trpc.code], operation.procedure).toEqual([403, 'FORBIDDEN']);
    }
  });

  it("answers another user's chat, job or account as if it did not exist, on REST and tRPC", async () => {
    for (const operation of operations.filter(({ procedure }) => procedure in OWNED_BY_SOMEONE_ELSE)) {
      const input = OWNED_BY_SOMEONE_ELSE[operation.procedure]?.(owned);
      const rest = await overRest(operation, input, intruder.token);
      expect([rest.status, rest.body.code], `${operation.method} ${operation.path}`).toEqual([
        404,
        'NOT_FOUND',
      ]);
      const trpc = await overTrpc(operation, input, intruder.token);
      expect([trpc.status, trpc.code], operation.procedure).toEqual([404, 'NOT_FOUND']);
    }
    // Nothing of the owner's changed.
    const chats = await callRest(suite.server.url, 'GET', '/chats', undefined, owner.token);
    expect(chats.body).toMatchObject([{ id: owned.chatId, title: 'mine' }]);
    const job = await callRest(suite.server.url, 'GET', `/jobs/${owned.jobId}`, undefined, owner.token);
    expect(job.body.status).toBe('succeeded');
    const webhook = await callRest(
      suite.server.url,
      'GET',
      `/webhooks/${owned.webhookId}`,
      undefined,
      owner.token,
    );
    expect(webhook.body).toMatchObject({ url: 'http://localhost:1/hook', enabled: true });
    const keys = await callRest(suite.server.url, 'GET', '/keys', undefined, owner.token);
    expect(keys.body.keys).toMatchObject([{ id: owned.keyId, name: 'mine' }]);
  });

  it("lists none of another user's assets by their job, and refuses them as attachments", async () => {
    const listed = await callRest(
      suite.server.url,
      'GET',
      `/assets?jobId=${owned.jobId}`,
      undefined,
      intruder.token,
    );
    expect(JSON.stringify(listed.body)).not.toContain(owned.assetId);
    const chat = await callRest(suite.server.url, 'POST', '/chats', { title: 'theirs' }, intruder.token);
    const attached = await callRest(
      suite.server.url,
      'POST',
      '/messages',
      {
        chatId: chat.body.id,
        role: 'user',
        content: 'look',
        type: 'model',
        attachments: [{ assetId: owned.assetId, kind: 'model', url: 'https://example.com/a.glb' }],
      },
      intruder.token,
    );
    expect([attached.status, attached.body.code]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('roles and searches', () => {
  it('applies a demotion to the very next request of the demoted admin (checklist 20)', async () => {
    const { server } = suite;
    const demoted = await signInNewUser(server, admin, 'second-admin@example.com');
    const promoted = await callRest(
      server.url,
      'PATCH',
      `/admin/users/${demoted.id}/roles`,
      { roles: ['user', 'admin'] },
      admin.token,
    );
    expect(promoted.status).toBe(200);
    const stats = { method: 'GET', path: '/admin/stats', procedure: 'admin-stats' } as const;
    expect((await overRest(stats, undefined, demoted.token)).status).toBe(200);
    const demotion = await callRest(
      server.url,
      'PATCH',
      `/admin/users/${demoted.id}/roles`,
      { roles: ['user'] },
      admin.token,
    );
    expect(demotion.status).toBe(200);
    // The same access token as before the demotion: its roles claim still says admin.
    expect((await overRest(stats, undefined, demoted.token)).status).toBe(403);
    expect((await overTrpc(stats, undefined, demoted.token)).status).toBe(403);
  });

  it('matches a search as literal text, whatever regular-expression syntax it holds (checklist 30)', async () => {
    const search = async (text: string) => {
      const answer = await callRest(
        suite.server.url,
        'GET',
        `/admin/users?search=${encodeURIComponent(text)}`,
        undefined,
        admin.token,
      );
      expect(answer.status).toBe(200);
      return (answer.body.users as Array<{ email: string }>).map(({ email }) => email);
    };
    expect(await search('owner')).toEqual(['owner@example.com']);
    expect(await search('own.r')).toEqual([]);
    expect(await search('(a+)+$')).toEqual([]);
    expect(await search('.*')).toEqual([]);
  });
});
