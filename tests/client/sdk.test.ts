import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';

import {
  createGen3dClient,
  Gen3dError,
  isGen3dError,
  memoryTokenStore,
  webStorageTokenStore,
  type KeyValueStorage,
  type RefreshLock,
  type TJob,
} from '@gen3d/client';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' }, modelDurationMs: 400 });

/** A fetch that counts the calls to each procedure (batched calls name several, comma-separated). */
function countingFetch(): { fetch: typeof globalThis.fetch; calls: (procedure: string) => number } {
  const seen: string[] = [];
  return {
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      seen.push(...url.pathname.replace(/^\/trpc\//, '').split(','));
      return globalThis.fetch(input, init);
    },
    calls: (procedure) => seen.filter((name) => name === procedure).length,
  };
}

/** Web Storage over a Map: what tabs of one browser share. */
function mapStorage(): KeyValueStorage & { size: () => number } {
  const storage = new Map<string, string>();
  return {
    getItem: (key) => storage.get(key) ?? null,
    setItem: (key, value) => void storage.set(key, value),
    removeItem: (key) => void storage.delete(key),
    size: () => storage.size,
  };
}

/** One lock shared by several clients in this process, taking turns as Web Locks do across tabs. */
function sharedLock(): RefreshLock {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(refresh: () => Promise<T>): Promise<T> => {
    const turn = tail.then(refresh, refresh);
    tail = turn.catch(() => undefined);
    return turn;
  };
}

const EXPIRED_ACCESS_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.invalid';

async function newAccount(email: string): Promise<{ email: string; password: string }> {
  const admin = await signInNewAdmin(suite.server, `admin-for-${email}`, 'admin password 1');
  await signInNewUser(suite.server, admin, email, 'user password 1');
  return { email, password: 'user password 1' };
}

describe('@gen3d/client conveniences', () => {
  it('logs in, calls with the stored token, and logs out', async () => {
    const account = await newAccount('sdk-login@example.com');
    const tokens = memoryTokenStore();
    const client = createGen3dClient({ url: suite.server.url, tokens });
    const result = await client.login(account.email, account.password);
    expect(result.user.email).toBe(account.email);
    expect(tokens.get()?.refreshToken).toBe(result.refreshToken);
    expect((await client.auth.me.query()).email).toBe(account.email);
    await client.logout();
    expect(tokens.get()).toBeNull();
    const error = await client.auth.me.query().catch((caught: unknown) => caught);
    expect(isGen3dError(error, 'UNAUTHORIZED')).toBe(true);
    // The refresh token was revoked on the server, not only forgotten here.
    const refreshed = await fetch(`${suite.server.url}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: result.refreshToken }),
    });
    expect(refreshed.status).toBe(401);
  });

  it('turns a wrong password into a Gen3dError with its code', async () => {
    const client = createGen3dClient({ url: suite.server.url });
    const error = await client
      .login('nobody@example.com', 'not the password')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Gen3dError);
    expect(error).toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401 });
  });

  it('rejects every call with a Gen3dError that tRPC tooling still recognises', async () => {
    const account = await newAccount('sdk-errors@example.com');
    const client = createGen3dClient({ url: suite.server.url });
    await client.login(account.email, account.password);
    const invalid = await client.jobs.get.query({ id: 'not-an-id' }).catch((caught: unknown) => caught);
    expect(invalid).toBeInstanceOf(Gen3dError);
    expect(invalid).toBeInstanceOf(TRPCClientError);
    expect(invalid).toMatchObject({
      name: 'Gen3dError',
      code: 'VALIDATION_FAILED',
      status: 400,
      issues: [expect.objectContaining({ path: 'id' })],
    });
    expect(isGen3dError(invalid, 'VALIDATION_FAILED') && invalid.data?.code).toBe('VALIDATION_FAILED');

    const missing = await client.jobs.get
      .query({ id: '0123456789abcdef01234567' })
      .catch((caught: unknown) => caught);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(isGen3dError(missing) && missing.requestId).toEqual(expect.any(String));

    const unreachable = createGen3dClient({ url: 'http://127.0.0.1:9' });
    const offline = await unreachable.system.info.query().catch((caught: unknown) => caught);
    expect(offline).toBeInstanceOf(Gen3dError);
    expect(offline).toMatchObject({ code: 'NETWORK_ERROR', status: undefined });
  });

  it('refreshes an expired access token once for all the calls waiting on it, and retries them', async () => {
    const account = await newAccount('sdk-refresh@example.com');
    const counter = countingFetch();
    const tokens = memoryTokenStore();
    const client = createGen3dClient({ url: suite.server.url, tokens, fetch: counter.fetch });
    const { refreshToken } = await client.login(account.email, account.password);
    // An access token the server no longer accepts, as after its expiry.
    tokens.set({ accessToken: EXPIRED_ACCESS_TOKEN, refreshToken });
    const answers = await Promise.all([
      client.auth.me.query(),
      client.chats.list.query({}),
      client.jobs.list.query({}),
      client.auth.me.query(),
    ]);
    expect(answers[0].email).toBe(account.email);
    expect(counter.calls('auth.refresh')).toBe(1);
    expect(tokens.get()?.refreshToken).not.toBe(refreshToken);
  });

  it('gives up and forgets the tokens when the refresh token is no longer valid', async () => {
    const account = await newAccount('sdk-expired@example.com');
    const tokens = memoryTokenStore();
    const client = createGen3dClient({ url: suite.server.url, tokens });
    const { refreshToken } = await client.login(account.email, account.password);
    await client.auth.logoutEverywhere.mutate();
    tokens.set({ accessToken: EXPIRED_ACCESS_TOKEN, refreshToken });
    const error = await client.auth.me.query().catch((caught: unknown) => caught);
    expect(isGen3dError(error, 'UNAUTHORIZED')).toBe(true);
    expect(tokens.get()).toBeNull();
  });

  it('keeps tokens in Web Storage when asked to', async () => {
    const account = await newAccount('sdk-storage@example.com');
    const webStorage = mapStorage();
    const first = createGen3dClient({ url: suite.server.url, tokens: webStorageTokenStore(webStorage) });
    await first.login(account.email, account.password);
    // A new client on the same storage (a page reload) is already signed in.
    const second = createGen3dClient({ url: suite.server.url, tokens: webStorageTokenStore(webStorage) });
    expect((await second.auth.me.query()).email).toBe(account.email);
    await second.logout();
    expect(webStorage.size()).toBe(0);
  });

  it('lets tabs sharing one token store refresh once between them, so the rotating refresh token is never reused', async () => {
    const account = await newAccount('sdk-tabs@example.com');
    const webStorage = mapStorage();
    const counter = countingFetch();
    const lock = sharedLock();
    const tabs = [0, 1].map(() =>
      createGen3dClient({
        url: suite.server.url,
        tokens: webStorageTokenStore(webStorage),
        fetch: counter.fetch,
        refreshLock: lock,
      }),
    );
    const { refreshToken } = await (tabs[0] as (typeof tabs)[0]).login(account.email, account.password);
    webStorageTokenStore(webStorage).set({ accessToken: EXPIRED_ACCESS_TOKEN, refreshToken });

    const answers = await Promise.all(tabs.map((tab) => tab.auth.me.query()));
    expect(answers.map((me) => me.email)).toEqual([account.email, account.email]);
    expect(counter.calls('auth.refresh')).toBe(1);
    // Nothing was presented twice, so the session is alive: its current refresh token still works.
    const current = webStorageTokenStore(webStorage).get();
    expect(current?.refreshToken).not.toBe(refreshToken);
    const renewed = await fetch(`${suite.server.url}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: current?.refreshToken }),
    });
    expect(renewed.status).toBe(200);
  });

  it('generates: resolves with the assets after reporting progress', async () => {
    const account = await newAccount('sdk-generate@example.com');
    const client = createGen3dClient({ url: suite.server.url });
    await client.login(account.email, account.password);
    const updates: TJob[] = [];
    const { job, assets } = await client.generate('a small red cube', {
      onProgress: (update) => updates.push(update),
      params: { seed: 3 },
    });
    expect(job.status).toBe('succeeded');
    expect(assets.map((asset) => asset.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    expect(updates[0]?.status).toBe('queued');
    expect(
      updates.some((update) => update.status === 'running' && update.progress > 0 && update.progress < 100),
    ).toBe(true);
    expect((await fetch(assets[0]?.url as string)).status).toBe(200);
  });

  it('cancels the job when generation is aborted, and reports bad input with its code', async () => {
    const account = await newAccount('sdk-abort@example.com');
    const client = createGen3dClient({ url: suite.server.url });
    await client.login(account.email, account.password);
    const controller = new AbortController();
    let jobId = '';
    const running = client.generate('a slow tower', {
      signal: controller.signal,
      onProgress: (update) => {
        jobId = update.id;
        if (update.status === 'running') controller.abort(new Error('the user changed their mind'));
      },
    });
    await expect(running).rejects.toThrow('the user changed their mind');
    const canceled = await new Promise<TJob>((resolve) => {
      const subscription = client.generation.watch.subscribe(
        { jobId },
        { onData: ({ data }) => data.status === 'canceled' && (subscription.unsubscribe(), resolve(data)) },
      );
    });
    expect(canceled.status).toBe('canceled');

    const invalid = await client.generate('').catch((caught: unknown) => caught);
    expect(invalid).toBeInstanceOf(Gen3dError);
    expect(invalid).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      issues: [expect.objectContaining({ path: 'prompt' })],
    });
  });
});
