import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createGen3dClient, isGen3dError } from '@gen3d/client';
import { ApiKeyScopes, type TApiKey, type TApiKeyScope, type TAuditEvent } from '@gen3d/shared';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer({
  env: {
    AUTH_RATE_LIMIT_MAX: '1000',
    // The tests stand in for a proxy on loopback, so X-Forwarded-For names the client's address.
    TRUST_PROXY: '127.0.0.1',
    API_KEYS_PER_USER_MAX: '3',
    USER_MAX_CHATS: '3',
    GENERATION_RATE_LIMIT_MAX: '3',
    GENERATION_RATE_LIMIT_IP_MAX: '1000',
    GENERATION_RATE_LIMIT_WINDOW_MS: '600000',
  },
});

const KEY_FORMAT = /^g3d_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/;
const MISSING_ID = 'ffffffffffffffffffffffff';

/**
 * Every operation of /openapi.json an API key may call, with the scope it needs (`any-key`: public
 * information). Every other operation must refuse keys: an operation in neither list fails the test.
 */
const OPEN_TO_KEYS: Record<string, TApiKeyScope | 'any-key'> = {
  'system-info': 'any-key',
  'webhooks-create': 'webhooks:write',
  'webhooks-list': 'webhooks:read',
  'webhooks-get': 'webhooks:read',
  'webhooks-update': 'webhooks:write',
  'webhooks-delete': 'webhooks:write',
  'webhooks-rotateSecret': 'webhooks:write',
  'webhooks-deliveries': 'webhooks:read',
  'webhooks-redeliver': 'webhooks:write',
  'analytics-stats': 'analytics:read',
  'analytics-dashboard': 'analytics:read',
  'analytics-generationMetrics': 'analytics:read',
  'analytics-popularPrompts': 'analytics:read',
  'analytics-chatStats': 'analytics:read',
  'chats-list': 'chats:read',
  'chats-create': 'chats:write',
  'chats-rename': 'chats:write',
  'chats-delete': 'chats:write',
  'messages-list': 'chats:read',
  'messages-create': 'chats:write',
  'generation-create': 'jobs:write',
  'postprocessing-create': 'jobs:write',
  'generation-generate': 'jobs:write',
  'jobs-list': 'jobs:read',
  'jobs-get': 'jobs:read',
  'jobs-cancel': 'jobs:write',
  'assets-list': 'assets:read',
  'assets-uploadImage': 'assets:write',
};

/** Account, session, key and admin operations, which no key reaches whatever its scopes. */
const NEVER_FOR_KEYS = new Set([
  'auth-register',
  'auth-verifyRegistration',
  'auth-login',
  'auth-refresh',
  'auth-logout',
  'auth-logoutEverywhere',
  'auth-me',
  'auth-updateMe',
  'auth-changePassword',
  'auth-requestPasswordReset',
  'auth-resetPassword',
  'users-list',
  'users-get',
  'users-create',
  'users-update',
  'apiKeys-create',
  'apiKeys-list',
  'apiKeys-revoke',
  'admin-keys-list',
  'admin-keys-revoke',
  'admin-stats',
  'admin-modelServers',
  'admin-users-list',
  'admin-users-get',
  'admin-users-setRoles',
  'admin-users-deactivate',
  'admin-users-reactivate',
  'admin-users-delete',
  'admin-audit-list',
  'admin-jobs-list',
  'jobs-update',
  'assets-register',
  'analytics-rebuildRollups',
]);

interface Operation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  operationId: string;
  security: Array<Record<string, string[]>>;
}

let admin: SignedIn;
let operations: Operation[];
let database: MongoClient;

beforeAll(async () => {
  admin = await signInNewAdmin(suite.server);
  const document = (await (await fetch(`${suite.server.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>;
  };
  operations = Object.entries(document.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({
      ...operation,
      method: method.toUpperCase() as Operation['method'],
      path,
    })),
  );
  database = await MongoClient.connect(suite.server.mongodbUri);
});

afterAll(async () => {
  await database.close();
});

let accounts = 0;
/** A fresh user of its own, so limits and quotas of one test do not touch another. */
const newUser = (): Promise<SignedIn> => {
  accounts += 1;
  return signInNewUser(suite.server, admin, `key-user-${accounts}@example.com`);
};

/** Creates a key over REST with the owner's session; fails the test unless 201. */
async function createKey(
  owner: SignedIn,
  scopes: readonly TApiKeyScope[],
  name = 'test key',
): Promise<TApiKey & { key: string }> {
  const created = await callRest(suite.server.url, 'POST', '/keys', { name, scopes }, owner.token);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as unknown as TApiKey & { key: string };
}

/** A REST call with `Authorization: Bearer <key>`, optionally as if from `address` (through the proxy). */
async function withKey(
  key: string,
  method: Operation['method'],
  path: string,
  body?: unknown,
  address?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (address) headers['x-forwarded-for'] = address;
  const response = await fetch(`${suite.server.url}/api${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The same procedure over tRPC's HTTP protocol with the key: the status and the error code. */
async function trpcWithKey(
  key: string,
  procedure: string,
  type: 'query' | 'mutation',
  input?: unknown,
): Promise<{ status: number; code: string | undefined }> {
  const url = `${suite.server.url}/trpc/${procedure}`;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const response =
    type === 'query'
      ? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`, {
          headers,
        })
      : await fetch(url, { method: 'POST', headers, body: JSON.stringify(input ?? null) });
  const body = (await response.json()) as { error?: { data?: { code?: string } } };
  return { status: response.status, code: body.error?.data?.code };
}

async function ownKeys(owner: SignedIn): Promise<TApiKey[]> {
  const listed = await callRest(suite.server.url, 'GET', '/keys', undefined, owner.token);
  expect(listed.status).toBe(200);
  return listed.body.keys as TApiKey[];
}

async function auditOf(action: string, targetId: string): Promise<TAuditEvent[]> {
  const listed = await callRest(
    suite.server.url,
    'GET',
    `/admin/audit?action=${action}&targetId=${targetId}`,
    undefined,
    admin.token,
  );
  expect(listed.status).toBe(200);
  return listed.body.events as TAuditEvent[];
}

describe('creating, listing and storing API keys', () => {
  it('shows the key once at creation, never in lists, and stores only an HMAC of its secret', async () => {
    const owner = await newUser();
    const created = await createKey(owner, ['jobs:read', 'jobs:write', 'jobs:read'], 'render farm');
    expect(created.key).toMatch(KEY_FORMAT);
    expect(created).toMatchObject({
      name: 'render farm',
      prefix: created.key.slice(0, 20),
      scopes: ['jobs:read', 'jobs:write'],
      expiresAt: null,
      lastUsedAt: null,
    });
    const secret = created.key.slice(21);

    const listed = await ownKeys(owner);
    expect(listed).toEqual([
      {
        id: created.id,
        name: 'render farm',
        prefix: created.prefix,
        scopes: ['jobs:read', 'jobs:write'],
        createdAt: created.createdAt,
        expiresAt: null,
        lastUsedAt: null,
        lastUsedIp: null,
      },
    ]);
    // Over tRPC, with the SDK's typed key methods, the list says the same and never the secret either.
    const overTrpc = await clientFor(suite.server, owner).apiKeys.list.query();
    expect(overTrpc.keys).toEqual(listed);
    expect(JSON.stringify(overTrpc)).not.toContain(secret);

    const stored = await database.db().collection('api_keys').findOne({ name: 'render farm' });
    expect(stored).not.toBeNull();
    const storedText = JSON.stringify(stored);
    expect(storedText).not.toContain(secret);
    expect(storedText).not.toContain(created.key);
    expect(stored?.secretHash).toMatch(/^[0-9a-f]{64}$/);
    // An HMAC under a server key, not a bare digest of the secret a leaked table could be checked against.
    const { createHash } = await import('node:crypto');
    expect(stored?.secretHash).not.toBe(createHash('sha256').update(secret).digest('hex'));
    expect(stored?.secretHash).not.toBe(createHash('sha256').update(created.key).digest('hex'));
  });

  it('takes an expiry in the future, refuses one in the past or unknown scopes (400), and caps keys per user (429)', async () => {
    const owner = await newUser();
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const expiring = await callRest(
      suite.server.url,
      'POST',
      '/keys',
      { name: 'a day', scopes: ['jobs:read'], expiresAt },
      owner.token,
    );
    expect(expiring.status).toBe(201);
    expect(expiring.body.expiresAt).toBe(expiresAt);
    for (const body of [
      { name: 'past', scopes: ['jobs:read'], expiresAt: '2020-01-01T00:00:00Z' },
      { name: 'admin', scopes: ['admin'] },
      { name: 'none', scopes: [] },
      { name: '', scopes: ['jobs:read'] },
    ]) {
      const refused = await callRest(suite.server.url, 'POST', '/keys', body, owner.token);
      expect([refused.status, refused.body.code], JSON.stringify(body)).toEqual([400, 'VALIDATION_FAILED']);
    }
    await createKey(owner, ['jobs:read']);
    await createKey(owner, ['jobs:read']);
    // API_KEYS_PER_USER_MAX is 3.
    const fourth = await callRest(
      suite.server.url,
      'POST',
      '/keys',
      { name: 'one too many', scopes: ['jobs:read'] },
      owner.token,
    );
    expect([fourth.status, fourth.body.code]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect(String(fourth.body.error)).toContain('revoke one');
    // Revoking one makes room.
    const [oldest] = (await ownKeys(owner)).slice(-1);
    const revoked = await callRest(suite.server.url, 'DELETE', `/keys/${oldest?.id}`, undefined, owner.token);
    expect(revoked.status).toBe(200);
    await createKey(owner, ['jobs:read']);
  });
});

describe('calling with an API key', () => {
  it('works on REST and tRPC (the SDK with apiKey) for its scopes, and answers 403 MISSING_SCOPE naming the scope otherwise', async () => {
    const owner = await newUser();
    const { key } = await createKey(owner, ['jobs:read', 'jobs:write', 'chats:read']);

    const job = await withKey(key, 'POST', '/jobs', { prompt: 'a key-made teapot' });
    expect(job.status).toBe(201);
    const listed = await withKey(key, 'GET', '/jobs');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).toContain(String(job.body.id));
    expect((await withKey(key, 'GET', '/chats')).status).toBe(200);

    const sdk = createGen3dClient({ url: suite.server.url, apiKey: key });
    const { job: generated, assets } = await sdk.generate('a key-made fox');
    expect(generated.status).toBe('succeeded');
    expect(assets.map((asset) => asset.format)).toContain('glb');
    // The job belongs to the key's owner.
    const ownerJobs = await callRest(suite.server.url, 'GET', '/jobs', undefined, owner.token);
    expect(JSON.stringify(ownerJobs.body)).toContain(generated.id);

    for (const [method, path, body, scope] of [
      ['POST', '/chats', { title: 'by key' }, 'chats:write'],
      ['GET', '/assets', undefined, 'assets:read'],
      ['GET', '/analytics/stats', undefined, 'analytics:read'],
    ] as const) {
      const refused = await withKey(key, method, path, body);
      expect([refused.status, refused.body.code], path).toEqual([403, 'MISSING_SCOPE']);
      expect(String(refused.body.error)).toContain(scope);
    }
    const overTrpc = await sdk.chats.create.mutate({ title: 'by key' }).catch((error: unknown) => error);
    expect(isGen3dError(overTrpc, 'MISSING_SCOPE')).toBe(true);
    expect(isGen3dError(overTrpc) && overTrpc.status).toBe(403);
  });

  it('classifies every operation of /openapi.json, and documents the scope of each one open to keys', () => {
    const unclassified = operations
      .map(({ operationId }) => operationId)
      .filter((id) => !(id in OPEN_TO_KEYS) && !NEVER_FOR_KEYS.has(id));
    expect(unclassified).toEqual([]);
    for (const operation of operations) {
      const keyRequirement = operation.security.find((requirement) => 'apiKey' in requirement);
      const access = OPEN_TO_KEYS[operation.operationId];
      if (access === undefined) expect(keyRequirement, operation.operationId).toBeUndefined();
      else if (access === 'any-key') expect(operation.security, operation.operationId).toEqual([]);
      else expect(keyRequirement, operation.operationId).toEqual({ apiKey: [access] });
    }
  });

  it('refuses every account, session, key and admin operation to a key with every scope: 403 API_KEY_NOT_ALLOWED on REST and tRPC', async () => {
    const owner = await newUser();
    const { key } = await createKey(owner, ApiKeyScopes);
    const refused = operations.filter(({ operationId }) => NEVER_FOR_KEYS.has(operationId));
    expect(refused.length).toBe(NEVER_FOR_KEYS.size);
    for (const operation of refused) {
      const path = operation.path.replace(/\{\w+\}/g, MISSING_ID);
      const body = operation.method === 'POST' || operation.method === 'PATCH' ? {} : undefined;
      const rest = await withKey(key, operation.method, path, body);
      expect([rest.status, rest.body.code], `${operation.method} ${operation.path}`).toEqual([
        403,
        'API_KEY_NOT_ALLOWED',
      ]);
      const trpc = await trpcWithKey(
        key,
        operation.operationId.replaceAll('-', '.'),
        operation.method === 'GET' ? 'query' : 'mutation',
      );
      expect([trpc.status, trpc.code], operation.operationId).toEqual([403, 'API_KEY_NOT_ALLOWED']);
    }
    // The account is untouched: the session still works and the key too.
    expect((await callRest(suite.server.url, 'GET', '/auth/me', undefined, owner.token)).status).toBe(200);
    expect((await withKey(key, 'GET', '/jobs')).status).toBe(200);
  });

  it('answers a revoked key at once with the same 401 as a malformed or unknown one, on REST and tRPC', async () => {
    const owner = await newUser();
    const created = await createKey(owner, ['jobs:read']);
    expect((await withKey(created.key, 'GET', '/jobs')).status).toBe(200);
    const revoked = await callRest(suite.server.url, 'DELETE', `/keys/${created.id}`, undefined, owner.token);
    expect(revoked.status).toBe(200);

    const unknown = `g3d_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    const wrongSecret = `${created.prefix}_${'B'.repeat(43)}`;
    const answers = [];
    for (const presented of [created.key, unknown, wrongSecret, 'g3d_nonsense']) {
      const answer = await withKey(presented, 'GET', '/jobs');
      answers.push([answer.status, answer.body.code, answer.body.error]);
      const trpc = await trpcWithKey(presented, 'jobs.list', 'query', {});
      expect([trpc.status, trpc.code]).toEqual([401, 'UNAUTHORIZED']);
    }
    expect(answers[0]?.[0]).toBe(401);
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(await ownKeys(owner)).toEqual([]);
    // Revoking it again, or another user's key, is answered as a key that does not exist.
    const again = await callRest(suite.server.url, 'DELETE', `/keys/${created.id}`, undefined, owner.token);
    expect([again.status, again.body.code]).toEqual([404, 'NOT_FOUND']);
    const someoneElses = await createKey(await newUser(), ['jobs:read']);
    const taken = await callRest(
      suite.server.url,
      'DELETE',
      `/keys/${someoneElses.id}`,
      undefined,
      owner.token,
    );
    expect([taken.status, taken.body.code]).toEqual([404, 'NOT_FOUND']);
    expect((await withKey(someoneElses.key, 'GET', '/jobs')).status).toBe(200);
  });

  it('refuses the keys of a deactivated owner at once and revokes them, audited; reactivation does not bring them back', async () => {
    const owner = await newUser();
    const created = await createKey(owner, ['jobs:read']);
    expect((await withKey(created.key, 'GET', '/jobs')).status).toBe(200);
    const deactivated = await callRest(
      suite.server.url,
      'POST',
      `/admin/users/${owner.id}/deactivate`,
      undefined,
      admin.token,
    );
    expect(deactivated.status).toBe(200);
    const refused = await withKey(created.key, 'GET', '/jobs');
    expect([refused.status, refused.body.code]).toEqual([401, 'UNAUTHORIZED']);
    const listed = await callRest(
      suite.server.url,
      'GET',
      `/admin/keys?userId=${owner.id}`,
      undefined,
      admin.token,
    );
    expect(listed.body.keys).toEqual([]);
    const [revocation] = await auditOf('api_key.revoked', created.id);
    expect(revocation).toMatchObject({
      actor: { userId: admin.id },
      target: { type: 'api_key', id: created.id },
      details: { ownerId: owner.id, reason: 'account deactivated' },
    });
    await callRest(suite.server.url, 'POST', `/admin/users/${owner.id}/reactivate`, undefined, admin.token);
    expect((await withKey(created.key, 'GET', '/jobs')).status).toBe(401);
  });

  it("lets admins list and revoke any user's key, and gives an admin's own key no admin power", async () => {
    const owner = await newUser();
    const created = await createKey(owner, ['jobs:read'], 'owned by a user');
    const listed = await callRest(
      suite.server.url,
      'GET',
      `/admin/keys?userId=${owner.id}`,
      undefined,
      admin.token,
    );
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      keys: [{ id: created.id, name: 'owned by a user', ownerId: owner.id, ownerEmail: owner.email }],
      pagination: { page: 1, total: 1 },
    });
    expect(JSON.stringify(listed.body)).not.toContain(created.key.slice(21));
    const everyone = await callRest(suite.server.url, 'GET', '/admin/keys?limit=100', undefined, admin.token);
    expect((everyone.body.keys as TApiKey[]).map(({ id }) => id)).toContain(created.id);

    const revoked = await callRest(
      suite.server.url,
      'DELETE',
      `/admin/keys/${created.id}`,
      undefined,
      admin.token,
    );
    expect(revoked.status).toBe(200);
    expect((await withKey(created.key, 'GET', '/jobs')).status).toBe(401);
    const [revocation] = await auditOf('api_key.revoked', created.id);
    expect(revocation).toMatchObject({
      actor: { userId: admin.id },
      details: { ownerId: owner.id, reason: 'revoked by an admin' },
    });

    const adminKey = await createKey(admin, ApiKeyScopes);
    for (const path of ['/admin/stats', '/admin/keys', '/users']) {
      const refused = await withKey(adminKey.key, 'GET', path);
      expect([refused.status, refused.body.code], path).toEqual([403, 'API_KEY_NOT_ALLOWED']);
    }
    // Even where keys are allowed, the key's caller is a plain user: no system-wide analytics.
    const systemWide = await withKey(adminKey.key, 'GET', '/analytics/stats?all=true');
    expect([systemWide.status, systemWide.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await withKey(adminKey.key, 'GET', '/analytics/stats')).status).toBe(200);
  });
});

describe('auditing and last use', () => {
  it('audits creation, the first use from each new client address, and revocation by the owner', async () => {
    const owner = await newUser();
    const created = await createKey(owner, ['jobs:read']);
    const [creation] = await auditOf('api_key.created', created.id);
    expect(creation).toMatchObject({
      actor: { userId: owner.id },
      target: { type: 'api_key', id: created.id, label: `test key (${created.prefix})` },
      details: { ownerId: owner.id, scopes: ['jobs:read'] },
    });
    expect(JSON.stringify(creation)).not.toContain(created.key.slice(21));

    for (const address of ['198.51.100.7', '198.51.100.7', '198.51.100.8', '198.51.100.7']) {
      expect((await withKey(created.key, 'GET', '/jobs', undefined, address)).status).toBe(200);
    }
    // An IPv6 client is its /64: two addresses of one /64 are one client.
    await withKey(created.key, 'GET', '/jobs', undefined, '2001:db8:1:2::10');
    await withKey(created.key, 'GET', '/jobs', undefined, '2001:db8:1:2::20');
    const newAddresses = await auditOf('api_key.new_address', created.id);
    expect(newAddresses.map((event) => event.details?.address).reverse()).toEqual([
      '198.51.100.7',
      '198.51.100.8',
      '2001:db8:1:2::/64',
    ]);
    expect(newAddresses[0]).toMatchObject({ actor: { userId: owner.id }, ip: '2001:db8:1:2::10' });

    await callRest(suite.server.url, 'DELETE', `/keys/${created.id}`, undefined, owner.token);
    const [revocation] = await auditOf('api_key.revoked', created.id);
    expect(revocation).toMatchObject({
      actor: { userId: owner.id },
      details: { reason: 'revoked by its owner' },
    });
  });

  it('records the last use time and address, at most once a minute per key', async () => {
    const owner = await newUser();
    const created = await createKey(owner, ['jobs:read']);
    expect((await ownKeys(owner))[0]?.lastUsedAt).toBeNull();
    const before = Date.now();
    await withKey(created.key, 'GET', '/jobs', undefined, '203.0.113.5');
    const [used] = await ownKeys(owner);
    expect(used?.lastUsedIp).toBe('203.0.113.5');
    expect(Date.parse(String(used?.lastUsedAt))).toBeGreaterThanOrEqual(before - 1000);
    // Used again at once, from an address it knows: no write, the recorded use stays.
    await withKey(created.key, 'GET', '/jobs', undefined, '203.0.113.5');
    expect((await ownKeys(owner))[0]?.lastUsedAt).toBe(used?.lastUsedAt);
  });
});

describe("limits and quotas count against the key's owner", () => {
  it("shares the generation rate limit between the owner's session and keys", async () => {
    const owner = await newUser();
    const { key } = await createKey(owner, ['jobs:write']);
    const { key: otherKey } = await createKey(owner, ['jobs:write']);
    // GENERATION_RATE_LIMIT_MAX is 3 per account: one by session, one by each key, then none by either.
    expect((await callRest(suite.server.url, 'POST', '/jobs', { prompt: 'a' }, owner.token)).status).toBe(
      201,
    );
    expect((await withKey(key, 'POST', '/jobs', { prompt: 'b' })).status).toBe(201);
    expect((await withKey(otherKey, 'POST', '/jobs', { prompt: 'c' })).status).toBe(201);
    const limited = await withKey(key, 'POST', '/jobs', { prompt: 'd' });
    expect([limited.status, limited.body.code]).toEqual([429, 'RATE_LIMITED']);
    const bySession = await callRest(suite.server.url, 'POST', '/jobs', { prompt: 'e' }, owner.token);
    expect(bySession.status).toBe(429);
  });

  it('counts chats made with a key against the owner chat quota', async () => {
    const owner = await newUser();
    const { key } = await createKey(owner, ['chats:write']);
    // USER_MAX_CHATS is 3: two by the key, one by session, then none by either.
    expect((await withKey(key, 'POST', '/chats', { title: 'k1' })).status).toBe(201);
    expect((await withKey(key, 'POST', '/chats', { title: 'k2' })).status).toBe(201);
    expect((await callRest(suite.server.url, 'POST', '/chats', { title: 's' }, owner.token)).status).toBe(
      201,
    );
    const ownChats = await callRest(suite.server.url, 'GET', '/chats', undefined, owner.token);
    expect((ownChats.body as unknown as Array<{ title: string }>).map(({ title }) => title).sort()).toEqual([
      'k1',
      'k2',
      's',
    ]);
    const bySession = await callRest(suite.server.url, 'POST', '/chats', { title: 'no room' }, owner.token);
    expect([bySession.status, bySession.body.code]).toEqual([429, 'QUOTA_EXCEEDED']);
    const full = await withKey(key, 'POST', '/chats', { title: 'one too many' });
    expect([full.status, full.body.code]).toEqual([429, 'QUOTA_EXCEEDED']);
  });
});

describe("the global request limit counts a key's requests against its owner", () => {
  const limited = useTestServer({
    env: {
      AUTH_RATE_LIMIT_MAX: '1000',
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_MAX: '6',
      RATE_LIMIT_WINDOW_MS: '600000',
    },
  });

  it("shares the owner's budget between their session and keys; a forged key with the owner's prefix spends only its address's", async () => {
    const { server } = limited;
    const root = await signInNewAdmin(server);
    const owner = await signInNewUser(server, root, 'budget@example.com');
    const ask = async (credential: string, address: string): Promise<number> =>
      (
        await fetch(`${server.url}/api/jobs`, {
          headers: { authorization: `Bearer ${credential}`, 'x-forwarded-for': address },
        })
      ).status;
    // 1 of the owner's 6 requests.
    const created = await callRest(
      server.url,
      'POST',
      '/keys',
      { name: 'k', scopes: ['jobs:read'] },
      owner.token,
    );
    const key = String(created.body.key);
    const forged = `${String(created.body.prefix)}_${'C'.repeat(43)}`;
    const forgedAnswers: number[] = [];
    for (let request = 0; request < 7; request += 1) forgedAnswers.push(await ask(forged, '198.51.100.30'));
    expect(forgedAnswers).toEqual([...Array<number>(6).fill(401), 429]);
    const keyAnswers: number[] = [];
    for (let request = 0; request < 5; request += 1) keyAnswers.push(await ask(key, '198.51.100.31'));
    expect(keyAnswers).toEqual(Array<number>(5).fill(200));
    // The owner's budget is spent, by session and by key, from any address.
    expect(await ask(owner.token, '198.51.100.32')).toBe(429);
    expect(await ask(key, '198.51.100.33')).toBe(429);
  });
});
