import { z } from 'zod';

import {
  ZAnalyticsScopeInput,
  ZAnalyticsStats,
  ZChatStats,
  ZDashboard,
  ZDashboardInput,
  ZGenerationMetrics,
  ZGenerationMetricsInput,
  ZPopularPrompts,
  ZPopularPromptsInput,
  ZRollupBuild,
} from '@gen3d/shared';

import { authedProcedure, router, withRole } from '../../trpc/trpc.js';
import { scopeOf } from './scope.js';

const tags = ['analytics'];
const scoped = ' Your own data; admins may pass userId, or all=true for the whole system.';

export const analyticsRouter = router({
  stats: authedProcedure
    .meta({
      apiKeyScope: 'analytics:read',
      openapi: {
        method: 'GET',
        path: '/analytics/stats',
        tags,
        summary: `Jobs by status, assets and bytes, chats, messages, and the latest jobs.${scoped}`,
        protect: true,
      },
    })
    .input(ZAnalyticsScopeInput)
    .output(ZAnalyticsStats)
    .query(({ ctx, input }) => ctx.services.analytics.stats(scopeOf(ctx.user, input))),

  dashboard: authedProcedure
    .meta({
      apiKeyScope: 'analytics:read',
      openapi: {
        method: 'GET',
        path: '/analytics/dashboard',
        tags,
        summary: `Jobs and assets per day over the last \`days\` days, days counted in \`timeZone\`, empty days included.${scoped}`,
        protect: true,
      },
    })
    .input(ZDashboardInput)
    .output(ZDashboard)
    .query(({ ctx, input }) =>
      ctx.services.analytics.dashboard(scopeOf(ctx.user, input), input.days, input.timeZone),
    ),

  generationMetrics: authedProcedure
    .meta({
      apiKeyScope: 'analytics:read',
      openapi: {
        method: 'GET',
        path: '/analytics/generation-metrics',
        tags,
        summary: `Success rate, average/p50/p95 duration, failures by error code and figures per model server over the last \`days\` days.${scoped}`,
        protect: true,
      },
    })
    .input(ZGenerationMetricsInput)
    .output(ZGenerationMetrics)
    .query(({ ctx, input }) =>
      ctx.services.analytics.generationMetrics(scopeOf(ctx.user, input), input.days),
    ),

  popularPrompts: authedProcedure
    .meta({
      apiKeyScope: 'analytics:read',
      openapi: {
        method: 'GET',
        path: '/analytics/popular-prompts',
        tags,
        summary: `The most used prompts (case and spacing ignored) and the latest ones.${scoped}`,
        protect: true,
      },
    })
    .input(ZPopularPromptsInput)
    .output(ZPopularPrompts)
    .query(({ ctx, input }) => ctx.services.analytics.popularPrompts(scopeOf(ctx.user, input), input.limit)),

  chatStats: authedProcedure
    .meta({
      apiKeyScope: 'analytics:read',
      openapi: {
        method: 'GET',
        path: '/analytics/chat-stats',
        tags,
        summary: `Chats, messages, messages per chat and the most active chats.${scoped}`,
        protect: true,
      },
    })
    .input(ZAnalyticsScopeInput)
    .output(ZChatStats)
    .query(({ ctx, input }) => ctx.services.analytics.chatStats(scopeOf(ctx.user, input))),

  rebuildRollups: withRole('admin')
    .meta({
      openapi: {
        method: 'POST',
        path: '/analytics/rollups/rebuild',
        tags,
        summary:
          'Recomputes the analytics rollups from the jobs and assets: repairs them after a crash or a failed update (admins; CONFLICT while a build runs)',
        protect: true,
      },
      errorCodes: ['CONFLICT'],
    })
    .input(z.void())
    .output(ZRollupBuild)
    .mutation(({ ctx }) => ctx.services.analytics.rebuildRollups(ctx.actor)),
});
