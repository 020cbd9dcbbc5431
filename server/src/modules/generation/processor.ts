import type { Types } from 'mongoose';

import type { JobRecord } from '../../jobs/job-model.js';
import type { JobFailure } from '../../jobs/queue.js';
import type { JobProcessor } from '../../jobs/worker-pool.js';
import type { MeshPool } from '../../meshes/mesh-pool.js';
import { InvalidMeshError } from '../../meshes/mesh-stats.js';
import {
  ModelServerError,
  wantedFormats,
  type ImageMediaType,
  type ModelImage,
  type ModelRequest,
  type ModelServer,
} from '../../model-servers/model-server.js';
import { runModelTask } from '../../model-servers/run-model-task.js';
import type { AssetService } from '../assets/service.js';
import { plainFailureMessage } from './failure-messages.js';

export interface GenerationProcessorDeps {
  modelServers: ReadonlyMap<string, ModelServer>;
  assets: AssetService;
  meshes: MeshPool;
  pollIntervalMs: number;
}

/** The job's input image is gone (its owner's account or files were deleted since it was queued). */
class InputImageMissingError extends Error {}

/** Share of the progress bar the model server's own progress fills; checking and storing files is the rest. */
const REMOTE_SHARE = 0.95;

/** A job's run: ask its model server, check every file it returns, store them as the job's assets. */
export function createGenerationProcessor({
  modelServers,
  assets,
  meshes,
  pollIntervalMs,
}: GenerationProcessorDeps): JobProcessor {
  async function inputImage(assetId: Types.ObjectId): Promise<ModelImage> {
    const record = await assets.byId(assetId);
    if (record?.kind !== 'image')
      throw new InputImageMissingError(`The input image ${assetId.toHexString()} no longer exists`);
    return {
      bytes: await assets.bytesOf(record),
      mediaType: record.contentType as ImageMediaType,
      width: record.width ?? 0,
      height: record.height ?? 0,
    };
  }

  return {
    async process(job: JobRecord, { signal, onProgress }) {
      const server = modelServers.get(job.params.modelServer);
      if (!server)
        throw new ModelServerError(
          'UNKNOWN_MODEL_SERVER',
          `No model server named "${job.params.modelServer}" is configured`,
          false,
        );
      const request: ModelRequest = {
        prompt: job.prompt || undefined,
        image: job.params.imageAssetId ? await inputImage(job.params.imageAssetId) : undefined,
        seed: job.params.seed,
        quality: job.params.quality as ModelRequest['quality'],
        formats: job.params.formats as ModelRequest['formats'],
        guidanceScale: job.params.guidanceScale ?? undefined,
        steps: job.params.steps ?? undefined,
        frameSize: job.params.frameSize ?? undefined,
      };
      const returned = await runModelTask(server, request, {
        signal,
        pollIntervalMs,
        onProgress: (progress) => onProgress(Math.floor(progress * REMOTE_SHARE)),
      });
      const checked = await meshes.prepare(returned, wantedFormats(request), signal);
      const records = await assets.store(
        { ownerId: job.ownerId, jobId: job._id, chatId: job.chatId ?? null },
        checked,
      );
      return records.map(assets.attachmentOf);
    },

    async discard(outputs) {
      await assets.deleteWhere({ _id: { $in: outputs.map((output) => output.assetId) } });
    },

    // Users get the code and plain words; the model server's own words (its address, its answer) are the log's.
    describeFailure(error: unknown): JobFailure {
      if (error instanceof ModelServerError)
        return {
          code: error.code,
          message: plainFailureMessage(error.code),
          detail: error.message,
          retryable: error.retryable,
        };
      if (error instanceof InvalidMeshError)
        return {
          code: 'OUTPUT_INVALID',
          message: plainFailureMessage('OUTPUT_INVALID'),
          detail: `The model server returned an unusable file. ${error.message}`,
          retryable: true,
        };
      if (error instanceof InputImageMissingError)
        return {
          code: 'INPUT_IMAGE_MISSING',
          message: plainFailureMessage('INPUT_IMAGE_MISSING'),
          detail: error.message,
          retryable: false,
        };
      return { code: 'INTERNAL', message: plainFailureMessage('INTERNAL'), retryable: true };
    },
  };
}
