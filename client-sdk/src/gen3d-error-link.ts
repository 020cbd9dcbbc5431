import type { TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';

import type { AppRouter } from '@gen3d/server';

import { toGen3dError } from './errors.js';

/** Every failed call and subscription ends with a Gen3dError, whatever link or the network failed. */
export function gen3dErrorLink(): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) =>
        next(op).subscribe({
          next: (value) => observer.next(value),
          complete: () => observer.complete(),
          error: (error) => observer.error(toGen3dError(error)),
        }),
      );
}
