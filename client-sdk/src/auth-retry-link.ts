import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';

import type { AppRouter } from '@gen3d/server';

/** Procedures whose 401 means wrong credentials, not an expired access token. */
const NO_RETRY = new Set(['auth.login', 'auth.refresh', 'auth.logout']);

function isUnauthorized(error: unknown): boolean {
  return (
    error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === 'UNAUTHORIZED'
  );
}

/**
 * Retries a query or mutation once after a 401, when `refresh` (shared by every call waiting at that
 * moment) got new tokens. `refresh` is told which access token the call was sent with, so it can tell a
 * token that expired from one that was replaced meanwhile.
 */
export function authRetryLink(
  accessToken: () => string | undefined,
  refresh: (rejectedAccessToken: string | undefined) => Promise<boolean>,
): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let current: Unsubscribable | undefined;
        let retried = false;
        const attempt = (): void => {
          const sentWith = accessToken();
          current = next(op).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              if (retried || op.type === 'subscription' || NO_RETRY.has(op.path) || !isUnauthorized(error)) {
                observer.error(error);
                return;
              }
              retried = true;
              refresh(sentWith).then(
                (renewed) => (renewed ? attempt() : observer.error(error)),
                () => observer.error(error),
              );
            },
          });
        };
        attempt();
        return () => current?.unsubscribe();
      });
}
