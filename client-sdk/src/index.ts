import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { EventSource } from 'eventsource';

import type { AppRouter } from '@gen3d/server';
import type { TAsset, TLoginResult } from '@gen3d/shared';

import { authRetryLink } from './auth-retry-link.js';
import { toGen3dError } from './errors.js';
import { gen3dErrorLink } from './gen3d-error-link.js';
import { generateWith, type GenerateInput, type GenerateOptions, type GenerateResult } from './generate.js';
import {
  postprocessWith,
  type PostprocessOperation,
  type PostprocessOptions,
  type PostprocessResult,
} from './postprocess.js';
import { defaultRefreshLock, type RefreshLock } from './refresh-lock.js';
import { memoryTokenStore, type TokenStore } from './token-store.js';
import { uploadImageWith } from './upload-image.js';

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export * from '@gen3d/shared';
export { Gen3dError, isGen3dError, toGen3dError } from './errors.js';
export type { GenerateInput, GenerateOptions, GenerateResult } from './generate.js';
export type { PostprocessOperation, PostprocessOptions, PostprocessResult } from './postprocess.js';
export type { RefreshLock } from './refresh-lock.js';
export {
  memoryTokenStore,
  webStorageTokenStore,
  type KeyValueStorage,
  type SessionTokens,
  type TokenStore,
} from './token-store.js';

export interface Gen3dClientOptions {
  /** Base URL of the gen3d server, e.g. `http://localhost:3000`. */
  url: string;
  /** Where the session's tokens live; in memory unless given. `login` fills it, `logout` empties it. */
  tokens?: TokenStore;
  /**
   * An API key (`g3d_…`, made with `apiKeys.create`) to call with instead of a session: every call carries
   * it, nothing is refreshed, and only the procedures its scopes allow answer (others: 403 MISSING_SCOPE,
   * or API_KEY_NOT_ALLOWED for account, session, key and admin operations).
   */
  apiKey?: string;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof globalThis.fetch;
  /** Extra headers sent with every call (an explicit Authorization header wins over the stored token). */
  headers?: () => Record<string, string>;
  /**
   * How clients sharing `tokens` take turns refreshing them. In browsers, the Web Locks API (every tab of
   * the origin); elsewhere none, which is right for one client per store.
   */
  refreshLock?: RefreshLock;
}

/** What the client adds to the typed procedures. */
export interface Gen3dConveniences {
  /** The session's tokens. */
  readonly tokens: TokenStore;
  /** Logs in and keeps the tokens; later calls are authenticated and refreshed automatically. */
  login(email: string, password: string): Promise<TLoginResult>;
  /** Ends the session on the server (best effort) and forgets the tokens. */
  logout(): Promise<void>;
  /**
   * Queues a generation and follows it; resolves with the job and its assets. Give a prompt, or
   * `{prompt?, imageAssetId?}` for a model from an uploaded image (with or without a prompt).
   */
  generate(input: string | GenerateInput, options?: GenerateOptions): Promise<GenerateResult>;
  /** Uploads an input image (PNG, JPEG or WebP); its asset's `id` is what `generate` takes as `imageAssetId`. */
  uploadImage(image: Blob | Uint8Array | ArrayBuffer): Promise<TAsset>;
  /**
   * Queues a post-processing job on one of your model assets (simplify, weld, recenter, convert) and
   * follows it; resolves with the job and its new assets.
   */
  postprocess(
    assetId: string,
    operation: PostprocessOperation,
    options?: PostprocessOptions,
  ): Promise<PostprocessResult>;
}

/** Every procedure, typed (`client.jobs.list.query()`), plus login/logout/generate/postprocess. */
export type Gen3dClient = TRPCClient<AppRouter> & Gen3dConveniences;

/**
 * A typed client for every gen3d procedure: batched HTTP for queries and mutations, SSE for subscriptions.
 * Calls carry the stored access token; on a 401 the refresh token is traded once for new tokens (one
 * refresh shared by every call waiting at that moment) and the call is retried.
 */
export function createGen3dClient(options: Gen3dClientOptions): Gen3dClient {
  const endpoint = `${options.url.replace(/\/$/, '')}/trpc`;
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  const tokens = options.tokens ?? memoryTokenStore();
  const credential = (): string | undefined => options.apiKey ?? tokens.get()?.accessToken;
  const headers = (): Record<string, string> => {
    const presented = credential();
    return { ...(presented ? { authorization: `Bearer ${presented}` } : {}), ...options.headers?.() };
  };
  // Refreshing goes around the retry link, so a failed refresh is not itself retried.
  const bare = createTRPCClient<AppRouter>({
    links: [httpLink({ url: endpoint, fetch: fetchImplementation })],
  });
  const refreshLock = options.refreshLock ?? defaultRefreshLock(`gen3d.refresh ${endpoint}`);
  let refreshing: Promise<boolean> | undefined;
  const refresh = (rejectedAccessToken: string | undefined): Promise<boolean> => {
    refreshing ??= refreshLock(async () => {
      const current = tokens.get();
      if (!current) return false;
      // Someone sharing the store (another tab) refreshed while the call was out: its tokens will do.
      if (current.accessToken !== rejectedAccessToken) return true;
      try {
        const renewed = await bare.auth.refresh.mutate({ refreshToken: current.refreshToken });
        tokens.set({ accessToken: renewed.token, refreshToken: renewed.refreshToken });
        return true;
      } catch {
        tokens.set(null);
        return false;
      }
    }).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  const procedures = createTRPCClient<AppRouter>({
    links: [
      gen3dErrorLink(),
      // A key is never refreshed: its 401 (revoked, expired) is the answer.
      authRetryLink(
        () => tokens.get()?.accessToken,
        (rejected) => (options.apiKey === undefined ? refresh(rejected) : Promise.resolve(false)),
      ),
      splitLink({
        condition: (operation) => operation.type === 'subscription',
        // The `eventsource` package (fetch-based, browsers and Node) sends the same headers on the SSE
        // request; a browser's own EventSource cannot send an Authorization header.
        true: httpSubscriptionLink({
          url: endpoint,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input, init) =>
              fetchImplementation(input, { ...init, headers: { ...init.headers, ...headers() } }),
          }),
        }),
        false: httpBatchLink({ url: endpoint, fetch: fetchImplementation, headers }),
      }),
    ],
  });

  const conveniences: Gen3dConveniences = {
    tokens,
    async login(email, password) {
      try {
        const result = await bare.auth.login.mutate({ email, password });
        tokens.set({ accessToken: result.token, refreshToken: result.refreshToken });
        return result;
      } catch (error) {
        throw toGen3dError(error);
      }
    },
    async logout() {
      const refreshToken = tokens.get()?.refreshToken;
      tokens.set(null);
      if (refreshToken) await bare.auth.logout.mutate({ refreshToken }).catch(() => undefined);
    },
    generate: (input, generateOptions) => generateWith(procedures, input, generateOptions),
    uploadImage: (image) => uploadImageWith(procedures, image),
    postprocess: (assetId, operation, postprocessOptions) =>
      postprocessWith(procedures, assetId, operation, postprocessOptions),
  };
  // The procedures are a proxy that turns any property into a path; the conveniences are looked up first.
  return new Proxy(procedures, {
    get: (target, property, receiver) =>
      property in conveniences
        ? conveniences[property as keyof Gen3dConveniences]
        : Reflect.get(target, property, receiver),
  }) as Gen3dClient;
}
