import { z } from 'zod';

import { ZEmail, ZObjectId, ZRole } from './auth.js';
import { ZJob, ZJobInputTypeCounts, ZJobKindCounts, ZJobStatus, ZJobStatusCounts } from './jobs.js';
import { queryInteger, ZPage } from './query-params.js';
import { ZPagination, ZUserView } from './users.js';

export const ZSetRolesInput = z.strictObject({ id: ZObjectId, roles: z.array(ZRole).min(1) });

/** What an admin action on a user answers: the user as they are after it. */
export const ZAdminUserResult = z.object({ ok: z.literal(true), message: z.string(), user: ZUserView });
export type TAdminUserResult = z.infer<typeof ZAdminUserResult>;

export const ZDeleteUserInput = z.strictObject({
  id: ZObjectId,
  confirmEmail: ZEmail.describe(
    "The account's email, typed again to confirm a deletion that cannot be undone",
  ),
});

/** How many records of each kind went with a deleted account. */
export const ZDeletedCounts = z.object({
  accounts: z.number().int(),
  refreshTokens: z.number().int(),
  passwordResets: z.number().int(),
  jobs: z.number().int(),
  assets: z.number().int().describe('Asset records; their files go with them'),
  messages: z.number().int(),
  chats: z.number().int(),
  webhookEndpoints: z.number().int().describe('Webhook endpoints; their deliveries go with them'),
  apiKeys: z.number().int(),
});
export type TDeletedCounts = z.infer<typeof ZDeletedCounts>;

export const ZDeleteUserResult = z.object({
  ok: z.literal(true),
  message: z.string(),
  deleted: ZDeletedCounts,
});
export type TDeleteUserResult = z.infer<typeof ZDeleteUserResult>;

/** A job as admins see it: with its owner and where it last ran. */
export const ZAdminJob = ZJob.extend({
  ownerId: z.string(),
  claimedBy: z.string().nullable().describe('The worker (host:pid:id) that ran its latest attempt'),
});
export type TAdminJob = z.infer<typeof ZAdminJob>;

/** GET /api/admin/stats: the whole system at a glance. */
export const ZAdminStats = z.object({
  users: z.object({
    total: z.number().int(),
    verified: z.number().int(),
    deactivated: z.number().int(),
    active24h: z.number().int().describe('Logged in or refreshed a session in the last 24 hours'),
    active7d: z.number().int(),
    byRole: z.object({ user: z.number().int(), moderator: z.number().int(), admin: z.number().int() }),
  }),
  jobs: z.object({
    total: z.number().int(),
    byStatus: ZJobStatusCounts,
    byKind: ZJobKindCounts.describe('Jobs of each kind: generations and each post-processing operation'),
    byInputType: ZJobInputTypeCounts.describe('Generation jobs by what they were made from'),
    queueDepth: z.number().int().describe('Jobs waiting to run'),
    oldestQueuedAgeSeconds: z.number().nullable().describe('How long the oldest waiting job has waited'),
    runningByInstance: z
      .array(z.object({ instance: z.string(), running: z.number().int() }))
      .describe('Running jobs per worker host:pid'),
  }),
  assets: z.object({ total: z.number().int(), bytes: z.number().int() }),
  chats: z.object({ total: z.number().int() }),
  messages: z.object({ total: z.number().int() }),
  recent: z.object({ users: z.array(ZUserView), jobs: z.array(ZAdminJob) }),
});
export type TAdminStats = z.infer<typeof ZAdminStats>;

export const ZAdminUserDetail = z.object({
  user: ZUserView,
  lastActiveAt: z.string().nullable(),
  counts: z.object({
    chats: z.number().int(),
    messages: z.number().int(),
    jobs: z.number().int(),
    jobsByStatus: ZJobStatusCounts,
    assets: z.number().int(),
    assetBytes: z.number().int(),
    activeSessions: z.number().int().describe('Refresh tokens that are neither spent, revoked nor expired'),
  }),
});
export type TAdminUserDetail = z.infer<typeof ZAdminUserDetail>;

export const ZListAdminJobsInput = z.strictObject({
  page: ZPage,
  limit: queryInteger(1, 200).default(50),
  status: ZJobStatus.optional(),
  userId: ZObjectId.optional().describe("Only this user's jobs"),
  modelServer: z.string().trim().min(1).max(40).optional(),
  search: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .describe('Prompts containing this text, case-insensitively'),
});

export const ZAdminJobList = z.object({ jobs: z.array(ZAdminJob), pagination: ZPagination });
export type TAdminJobList = z.infer<typeof ZAdminJobList>;

/** One configured model server as a check just found it. */
export const ZModelServerHealth = z.object({
  name: z.string().describe('The name jobs select it by (params.modelServer)'),
  isDefault: z.boolean().describe('Jobs that name no model server go here'),
  ok: z.boolean().describe('It answered its contract'),
  latencyMs: z.number().int().describe('How long the check took'),
  detail: z.string().nullable().describe('What the server says it is, when it says'),
  credits: z.number().nullable().describe("Credits left on a paid API's account (Meshy)"),
  error: z
    .object({ code: z.string(), message: z.string() })
    .nullable()
    .describe('Why the check failed: unreachable, timed out, key refused, unexpected answer'),
});
export type TModelServerHealth = z.infer<typeof ZModelServerHealth>;
export const ZModelServerHealthList = z.array(ZModelServerHealth);
