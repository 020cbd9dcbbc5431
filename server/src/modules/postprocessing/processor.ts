import { NotFound } from '../../domain-errors.js';
import type { JobRecord } from '../../jobs/job-model.js';
import type { JobFailure } from '../../jobs/queue.js';
import type { JobProcessor } from '../../jobs/worker-pool.js';
import type { MeshPool } from '../../meshes/mesh-pool.js';
import { InvalidMeshError } from '../../meshes/mesh-stats.js';
import type { PostprocessFormat, PostprocessOperation } from '../../meshes/postprocess-mesh.js';
import type { AssetService } from '../assets/service.js';
import { plainFailureMessage } from '../generation/failure-messages.js';

export interface PostprocessingProcessorDeps {
  assets: AssetService;
  meshes: MeshPool;
}

/** A job that cannot succeed whatever the retries: its source is gone, or it is not a post-processing job. */
class PostprocessFailure extends Error {
  constructor(
    readonly code: 'SOURCE_MISSING' | 'INTERNAL',
    message: string,
  ) {
    super(message);
  }
}

/** A NotFound as no record; any other failure (the database) stays a failure, retried. */
function missingAsUndefined(error: unknown): [undefined] {
  if (error instanceof NotFound) return [undefined];
  throw error;
}

/** Share of the progress bar reading the source takes; the mesh work fills the next share, storing the rest. */
const READ_SHARE = 5;
const MESH_SHARE = 85;

/**
 * A post-processing job's run: read its source asset, run the operation on a mesh worker thread (cancelling
 * the job stops the thread's work), check the result like any model output, and store it as new assets of
 * the job linked to their source.
 */
export function createPostprocessingProcessor({ assets, meshes }: PostprocessingProcessorDeps): JobProcessor {
  return {
    async process(job: JobRecord, { signal, onProgress }) {
      const postprocess = job.postprocess;
      if (!postprocess)
        throw new PostprocessFailure('INTERNAL', 'a post-processing job without its operation');
      const [source] = await assets
        .ownedBy(job.ownerId.toHexString(), [postprocess.sourceAssetId.toHexString()])
        .catch(missingAsUndefined);
      if (!source)
        throw new PostprocessFailure(
          'SOURCE_MISSING',
          `source asset ${postprocess.sourceAssetId.toHexString()} is gone`,
        );
      const bytes = await assets.read(source);
      const material = source.format === 'obj' ? await assets.companion(source, 'mtl') : undefined;
      onProgress(READ_SHARE);
      const operation: PostprocessOperation = {
        kind: job.kind as PostprocessOperation['kind'],
        ratio: postprocess.ratio ?? undefined,
        targetTriangles: postprocess.targetTriangles ?? undefined,
        format: postprocess.format as PostprocessFormat,
      };
      const files = await meshes.postprocess(
        {
          format: source.format as PostprocessFormat,
          bytes,
          material: material ? await assets.read(material) : undefined,
        },
        operation,
        signal,
        (share) => onProgress(READ_SHARE + Math.floor(share * MESH_SHARE)),
      );
      signal.throwIfAborted();
      const records = await assets.store(
        { ownerId: job.ownerId, jobId: job._id, chatId: job.chatId ?? null, sourceAssetId: source._id },
        files,
      );
      return records.map(assets.attachmentOf);
    },

    async discard(outputs) {
      await assets.deleteWhere({ _id: { $in: outputs.map((output) => output.assetId) } });
    },

    // The operation is deterministic: a result that fails the checks fails again, so it is not retried.
    describeFailure(error: unknown): JobFailure {
      if (error instanceof InvalidMeshError)
        return {
          code: 'POSTPROCESS_FAILED',
          message: plainFailureMessage('POSTPROCESS_FAILED'),
          detail: error.message,
          retryable: false,
        };
      if (error instanceof PostprocessFailure)
        return {
          code: error.code,
          message: plainFailureMessage(error.code),
          detail: error.message,
          retryable: false,
        };
      return { code: 'INTERNAL', message: plainFailureMessage('INTERNAL'), retryable: true };
    },
  };
}
