import { tracked } from '@trpc/server';
import { z } from 'zod';

import {
  ZAdminJobUpdateInput,
  ZCreateJobInput,
  ZGenerateInput,
  ZGenerateResult,
  ZJob,
  ZJobIdInput,
  ZListJobsInput,
  ZWatchJobsInput,
} from '@gen3d/shared';

import { authedProcedure, router, withDomainErrors, withRateLimit, withRole } from '../../trpc/trpc.js';
import type { JobEvent } from './service.js';

/** Events as tRPC tracks them, so a reconnecting client resumes after the last id it saw. */
async function* trackedJobs(events: AsyncIterable<JobEvent>) {
  for await (const event of withDomainErrors(events)) yield tracked(event.id, event.job);
}

const generationLimited = authedProcedure.use(withRateLimit((limits) => limits.generation));

export const generationRouter = router({
  create: generationLimited
    .meta({
      apiKeyScope: 'jobs:write',
      openapi: {
        method: 'POST',
        path: '/jobs',
        tags: ['jobs'],
        summary: 'Queue a generation: the prompt becomes a user message and a queued job',
        protect: true,
      },
      successStatus: 201,
    })
    .input(ZCreateJobInput)
    .output(ZJob)
    .mutation(({ ctx, input }) =>
      ctx.services.generation.create(
        ctx.user.id,
        { ...input, idempotencyKey: input.idempotencyKey ?? ctx.idempotencyKey },
        ctx.requestId,
      ),
    ),

  generate: generationLimited
    .meta({
      apiKeyScope: 'jobs:write',
      openapi: {
        method: 'POST',
        path: '/generate',
        tags: ['jobs'],
        summary: 'Generate and wait for the files (a blocking convenience over the job queue)',
        protect: true,
      },
      errorCodes: ['TIMEOUT', 'GENERATION_FAILED'],
    })
    .input(ZGenerateInput)
    .output(ZGenerateResult)
    .mutation(({ ctx, input }) => ctx.services.generation.generate(ctx.user.id, input, ctx.requestId)),

  /** Live job updates over SSE; reconnecting clients resume after the last event id. Streams are capped. */
  watch: authedProcedure
    .meta({ apiKeyScope: 'jobs:read' })
    .input(ZWatchJobsInput)
    .subscription(async ({ ctx, input, signal }) =>
      trackedJobs(
        ctx.services.generation.subscribe(ctx.user.id, ctx.addressKey, {
          jobId: input.jobId,
          lastEventId: input.lastEventId,
          signal: signal ?? new AbortController().signal,
        }),
      ),
    ),
});

export const jobsRouter = router({
  list: authedProcedure
    .meta({
      apiKeyScope: 'jobs:read',
      openapi: {
        method: 'GET',
        path: '/jobs',
        tags: ['jobs'],
        summary: 'Your jobs, newest first',
        protect: true,
      },
    })
    .input(ZListJobsInput)
    .output(z.array(ZJob))
    .query(({ ctx, input }) => ctx.services.generation.list(ctx.user.id, input)),

  get: authedProcedure
    .meta({
      apiKeyScope: 'jobs:read',
      openapi: {
        method: 'GET',
        path: '/jobs/{id}',
        tags: ['jobs'],
        summary: 'One of your jobs',
        protect: true,
      },
    })
    .input(ZJobIdInput)
    .output(ZJob)
    .query(({ ctx, input }) => ctx.services.generation.get(ctx.user.id, input.id)),

  cancel: authedProcedure
    .meta({
      apiKeyScope: 'jobs:write',
      openapi: {
        method: 'POST',
        path: '/jobs/{id}/cancel',
        tags: ['jobs'],
        summary: 'Cancel a queued or running job (400 JOB_FINISHED when it already ended)',
        protect: true,
      },
    })
    .input(ZJobIdInput)
    .output(ZJob)
    .mutation(({ ctx, input }) => ctx.services.generation.cancel(ctx.user.id, input.id)),

  update: withRole('admin')
    .meta({
      openapi: {
        method: 'PATCH',
        path: '/jobs/{id}',
        tags: ['jobs'],
        summary:
          'Change any job (admins): retry or requeue (queued), cancel, fail with an error, or set progress',
        protect: true,
      },
      errorCodes: ['CONFLICT'],
    })
    .input(ZAdminJobUpdateInput)
    .output(ZJob)
    .mutation(({ ctx, input }) => ctx.services.generation.adminUpdate(ctx.actor, input)),
});
