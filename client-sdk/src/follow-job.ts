import type { TRPCClient } from '@trpc/client';

import type { AppRouter } from '@gen3d/server';
import type { TAttachment, TJob } from '@gen3d/shared';

import { Gen3dError, toGen3dError } from './errors.js';

export interface FollowOptions {
  /** Called with every update of the job, as it happens. */
  onProgress?: ((job: TJob) => void) | undefined;
  /** Aborting cancels the job on the server and rejects with the abort reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Follows a queued job on the live-update stream until it ends: resolves with the job and its files once it
 * succeeded, rejects with a Gen3dError (its error's code, or `failureCode`) when it failed or was canceled.
 */
export function followJobToEnd(
  client: TRPCClient<AppRouter>,
  job: TJob,
  { signal, onProgress }: FollowOptions,
  failureCode: string,
): Promise<{ job: TJob; assets: TAttachment[] }> {
  onProgress?.(job);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      subscription.unsubscribe();
      client.jobs.cancel.mutate({ id: job.id }).catch(() => undefined);
      reject(signal?.reason);
    };
    const finish = (): void => {
      subscription.unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    };
    const subscription = client.generation.watch.subscribe(
      { jobId: job.id },
      {
        onData: ({ data }) => {
          onProgress?.(data);
          if (data.status === 'succeeded') {
            finish();
            resolve({ job: data, assets: data.outputs });
          } else if (data.status === 'failed' || data.status === 'canceled') {
            finish();
            const code = data.error?.code ?? (data.status === 'canceled' ? 'CANCELED' : failureCode);
            reject(new Gen3dError(code, data.error?.message ?? `The job was ${data.status}`));
          }
        },
        onError: (error) => {
          finish();
          reject(toGen3dError(error));
        },
      },
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
