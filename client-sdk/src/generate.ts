import type { TRPCClient } from '@trpc/client';
import type { inferRouterInputs } from '@trpc/server';

import type { AppRouter } from '@gen3d/server';
import type { TAttachment, TJob } from '@gen3d/shared';

import { toGen3dError } from './errors.js';
import { followJobToEnd } from './follow-job.js';

type CreateJobInput = inferRouterInputs<AppRouter>['generation']['create'];

export interface GenerateOptions {
  /**
   * Called with every update of the job (status and progress 0-100), as it happens; while it waits, also
   * when its `queuePosition` or its `estimatedStartAt` / `estimatedFinishAt` change (docs/api.md).
   */
  onProgress?: (job: TJob) => void;
  /** Aborting cancels the job on the server and rejects with the abort reason. */
  signal?: AbortSignal;
  chatId?: string;
  params?: CreateJobInput['params'];
}

/** What a job starts from: a prompt, an input image (`imageAssetId`, see `uploadImage`), or both. */
export interface GenerateInput {
  prompt?: string;
  imageAssetId?: string;
}

export interface GenerateResult {
  job: TJob;
  /** The job's files by format (signed URLs). */
  assets: TAttachment[];
}

/**
 * Queues a job for a prompt (a string), or for an image and/or a prompt, and follows it live; resolves with its
 * assets, rejects with a Gen3dError when it fails.
 */
export async function generateWith(
  client: TRPCClient<AppRouter>,
  input: string | GenerateInput,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const { prompt, imageAssetId } = typeof input === 'string' ? { prompt: input } : input;
  options.signal?.throwIfAborted();
  let job: TJob;
  try {
    job = await client.generation.create.mutate({
      ...(prompt === undefined ? {} : { prompt }),
      ...(imageAssetId === undefined ? {} : { imageAssetId }),
      ...(options.chatId ? { chatId: options.chatId } : {}),
      ...(options.params ? { params: options.params } : {}),
    });
  } catch (error) {
    throw toGen3dError(error);
  }
  return followJobToEnd(client, job, options, 'GENERATION_FAILED');
}
