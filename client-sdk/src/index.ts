import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import { EventSource } from 'eventsource';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@gen3d/server';

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export * from '@gen3d/shared';

export interface Gen3dClientOptions {
  /** Base URL of the gen3d server, e.g. `http://localhost:3000`. */
  url: string;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof globalThis.fetch;
  /** Extra headers sent with every query and mutation. */
  headers?: () => Record<string, string>;
}

export type Gen3dClient = TRPCClient<AppRouter>;

/** A typed client for every gen3d procedure: batched HTTP for queries and mutations, SSE for subscriptions. */
export function createGen3dClient(options: Gen3dClientOptions): Gen3dClient {
  const endpoint = `${options.url.replace(/\/$/, '')}/trpc`;
  const fetchImplementation = options.fetch ?? globalThis.fetch;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (operation) => operation.type === 'subscription',
        // The `eventsource` package (fetch-based, browsers and Node) sends the same headers on the SSE
        // request; a browser's own EventSource cannot send an Authorization header.
        true: httpSubscriptionLink({
          url: endpoint,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input, init) => fetchImplementation(input, { ...init, headers: { ...init.headers, ...options.headers?.() } }),
          }),
        }),
        false: httpBatchLink({
          url: endpoint,
          fetch: fetchImplementation,
          ...(options.headers ? { headers: options.headers } : {}),
        }),
      }),
    ],
  });
}
