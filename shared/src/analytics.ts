import { z } from 'zod';

import { ZObjectId } from './auth.js';
import { ZJob, ZJobInputTypeCounts, ZJobKindCounts, ZJobStatusCounts } from './jobs.js';
import { queryInteger, ZBooleanFilter } from './query-params.js';

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Whose data: the caller's by default; admins may name a user or ask for the whole system. */
const scope = {
  userId: ZObjectId.optional().describe("Admins: this user's data instead of yours"),
  all: ZBooleanFilter.optional().describe('Admins: the whole system'),
};
const ZDays = queryInteger(1, 366)
  .default(30)
  .describe('The window: this many days up to and including today');
const ZTimeZone = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris, or UTC')
  .default('UTC')
  .describe('Days are counted in this IANA time zone');

export const ZAnalyticsScopeInput = z.strictObject(scope);
export const ZDashboardInput = z.strictObject({ ...scope, days: ZDays, timeZone: ZTimeZone });
export const ZGenerationMetricsInput = z.strictObject({ ...scope, days: ZDays });
export const ZPopularPromptsInput = z.strictObject({ ...scope, limit: queryInteger(1, 50).default(10) });

const ZStatusCounts = ZJobStatusCounts.extend({ total: z.number().int() });

const ZScope = z.object({ userId: z.string().nullable().describe('Whose data; null for the whole system') });

export const ZAnalyticsStats = z.object({
  scope: ZScope,
  jobs: ZStatusCounts,
  jobsByKind: ZJobKindCounts.describe('Jobs of each kind: generations and each post-processing operation'),
  jobsByInputType: ZJobInputTypeCounts.describe('Generation jobs by what they were made from'),
  assets: z.object({ total: z.number().int(), bytes: z.number().int() }),
  chats: z.object({ total: z.number().int() }),
  messages: z.object({ total: z.number().int() }),
  recent: z.object({ jobs: z.array(ZJob) }),
});
export type TAnalyticsStats = z.infer<typeof ZAnalyticsStats>;

export const ZDashboard = z.object({
  scope: ZScope,
  days: z.number().int(),
  timeZone: z.string(),
  from: z.string().describe('Start of the first day (ISO 8601, UTC)'),
  jobsPerDay: z.array(
    z.object({
      date: z.string().describe('YYYY-MM-DD in timeZone'),
      count: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
    }),
  ),
  assetsPerDay: z.array(z.object({ date: z.string(), count: z.number().int(), bytes: z.number().int() })),
  totals: z.object({ jobs: z.number().int(), assets: z.number().int() }),
});
export type TDashboard = z.infer<typeof ZDashboard>;

const ZDurations = z.object({
  average: z.number().nullable(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
});

export const ZGenerationMetrics = z.object({
  scope: ZScope,
  days: z.number().int(),
  from: z.string(),
  jobs: ZStatusCounts,
  successRate: z
    .number()
    .nullable()
    .describe('succeeded / (succeeded + failed), 0-1; null before any job finished'),
  durationMs: ZDurations.describe("Run time of succeeded jobs' final attempt (nearest-rank percentiles)"),
  failuresByCode: z.array(z.object({ code: z.string(), count: z.number().int() })),
  byModelServer: z.array(
    z.object({
      modelServer: z.string(),
      total: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      successRate: z.number().nullable(),
      averageDurationMs: z.number().nullable(),
    }),
  ),
});
export type TGenerationMetrics = z.infer<typeof ZGenerationMetrics>;

export const ZPopularPrompts = z.object({
  scope: ZScope,
  popular: z.array(
    z.object({
      prompt: z.string().describe('Lower case, spacing collapsed'),
      count: z.number().int(),
      lastUsedAt: z.string(),
    }),
  ),
  recent: z.array(
    z.object({ jobId: z.string(), prompt: z.string(), status: z.string(), createdAt: z.string() }),
  ),
});
export type TPopularPrompts = z.infer<typeof ZPopularPrompts>;

export const ZChatStats = z.object({
  scope: ZScope,
  chats: z.number().int(),
  messages: z.number().int(),
  messagesPerChat: z.number().describe('Average, two decimals'),
  mostActive: z.array(
    z.object({
      chatId: z.string(),
      title: z.string(),
      messages: z.number().int(),
      lastMessageAt: z.string(),
    }),
  ),
});
export type TChatStats = z.infer<typeof ZChatStats>;

/** What a rebuild of the analytics rollups counted. */
export const ZRollupBuild = z.object({
  jobs: z.number().int().describe('Jobs counted'),
  assets: z.number().int().describe('Assets counted'),
  rollups: z.number().int().describe('Hour and day rollups written'),
  prompts: z.number().int().describe('Prompt rows written'),
  chats: z.number().int().describe('Chats with messages counted'),
});
export type TRollupBuild = z.infer<typeof ZRollupBuild>;
