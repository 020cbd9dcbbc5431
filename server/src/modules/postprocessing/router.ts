import { ZJob, ZPostprocessInput } from '@gen3d/shared';

import { authedProcedure, router, withRateLimit } from '../../trpc/trpc.js';

export const postprocessingRouter = router({
  create: authedProcedure
    .use(withRateLimit((limits) => limits.generation))
    .meta({
      apiKeyScope: 'jobs:write',
      openapi: {
        method: 'POST',
        path: '/assets/{id}/postprocess',
        tags: ['jobs'],
        summary:
          'Queue a post-processing job on one of your model assets: simplify, weld, recenter or convert; the result is a new asset linked to its source',
        protect: true,
      },
      successStatus: 201,
      errorCodes: [
        'ASSET_NOT_POSTPROCESSABLE',
        'POSTPROCESS_TARGET_TOO_HIGH',
        'POSTPROCESS_SOURCE_TOO_LARGE',
        'QUOTA_EXCEEDED',
      ],
    })
    .input(ZPostprocessInput)
    .output(ZJob)
    .mutation(({ ctx, input }) =>
      ctx.services.postprocessing.create(
        { userId: ctx.user.id, actor: ctx.actor },
        { ...input, idempotencyKey: input.idempotencyKey ?? ctx.idempotencyKey },
        ctx.requestId,
      ),
    ),
});
