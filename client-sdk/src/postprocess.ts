import type { TRPCClient } from '@trpc/client';
import type { inferRouterInputs } from '@trpc/server';

import type { AppRouter } from '@gen3d/server';
import type { TAttachment, TJob } from '@gen3d/shared';

import { toGen3dError } from './errors.js';
import { followJobToEnd } from './follow-job.js';

/** The operation: `kind` and its parameters (`ratio` or `targetTriangles` for simplify, `format`). */
export type PostprocessOperation = Omit<
  inferRouterInputs<AppRouter>['postprocessing']['create'],
  'id' | 'idempotencyKey'
>;

export interface PostprocessOptions {
  /** Called with every update of the job (status and progress 0-100), as it happens. */
  onProgress?: (job: TJob) => void;
  /** Aborting cancels the job on the server and rejects with the abort reason. */
  signal?: AbortSignal;
  /** Retrying with the same key gives the same job. */
  idempotencyKey?: string;
}

export interface PostprocessResult {
  job: TJob;
  /** The new files (signed URLs); each asset records the source as its `sourceAssetId`. */
  assets: TAttachment[];
}

/**
 * Queues a post-processing job on one of the caller's model assets and follows it live; resolves with the
 * new assets, rejects with a Gen3dError when it is refused or fails.
 */
export async function postprocessWith(
  client: TRPCClient<AppRouter>,
  assetId: string,
  operation: PostprocessOperation,
  options: PostprocessOptions = {},
): Promise<PostprocessResult> {
  options.signal?.throwIfAborted();
  let job: TJob;
  try {
    job = await client.postprocessing.create.mutate({
      id: assetId,
      ...operation,
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    });
  } catch (error) {
    throw toGen3dError(error);
  }
  return followJobToEnd(client, job, options, 'POSTPROCESS_FAILED');
}
