import type { TJob, TJobKind, TQueueEstimate } from '@gen3d/shared';

import type { JobRecord } from '../../jobs/job-model.js';
import type { AttachmentRecord } from '../assets/attachment-schema.js';
import type { AssetService } from '../assets/service.js';

/** A job as clients see it; output URLs are signed now. The queue fields come when the caller estimated them. */
export function jobView(
  job: JobRecord,
  assets: Pick<AssetService, 'attachmentView'>,
  queue?: TQueueEstimate,
): TJob {
  const id = job._id.toHexString();
  const { seed, quality, formats, modelServer, guidanceScale, steps, frameSize, imageAssetId } = job.params;
  return {
    _id: id,
    id,
    kind: (job.kind ?? 'generate') as TJobKind,
    chatId: job.chatId?.toHexString() ?? null,
    prompt: job.prompt ?? '',
    inputType: (job.inputType ?? 'text') as TJob['inputType'],
    params: {
      seed,
      quality: quality as TJob['params']['quality'],
      formats: formats as TJob['params']['formats'],
      modelServer,
      ...(guidanceScale == null ? {} : { guidanceScale }),
      ...(steps == null ? {} : { steps }),
      ...(frameSize == null ? {} : { frameSize }),
      ...(imageAssetId == null ? {} : { imageAssetId: imageAssetId.toHexString() }),
    },
    postprocess: postprocessView(job.postprocess),
    status: job.status as TJob['status'],
    progress: job.progress,
    attempts: job.attempts,
    error: job.error?.code ? { code: job.error.code, message: job.error.message ?? '' } : null,
    outputs: (job.outputs as AttachmentRecord[]).map(assets.attachmentView),
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    computeMs: job.computeMs ?? null,
    version: job.version,
    ...queue,
  };
}

function postprocessView(postprocess: JobRecord['postprocess']): TJob['postprocess'] {
  if (!postprocess) return null;
  const { sourceAssetId, sourceJobId, ratio, targetTriangles, format } = postprocess;
  return {
    sourceAssetId: sourceAssetId.toHexString(),
    sourceJobId: sourceJobId?.toHexString() ?? null,
    ...(ratio == null ? {} : { ratio }),
    ...(targetTriangles == null ? {} : { targetTriangles }),
    format: format as NonNullable<TJob['postprocess']>['format'],
  };
}
