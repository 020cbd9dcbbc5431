import { z } from 'zod';

import { ZObjectId } from './auth.js';
import { queryInteger, ZPage } from './query-params.js';
import { ZPagination } from './users.js';

/** Every kind of event the audit log records. */
export const AuditActions = [
  'user.created',
  'user.roles_changed',
  'user.email_changed',
  'user.email_verification_changed',
  'user.deactivated',
  'user.reactivated',
  'user.deleted',
  // Written by earlier versions (failed logins per window); locks are `auth.account_locked` now.
  'auth.login_failures_exceeded',
  'auth.account_locked',
  'auth.refresh_token_reused',
  'auth.password_reset_requested',
  'auth.password_reset',
  'auth.password_changed',
  'job.updated_by_admin',
  'job.canceled_by_admin',
  'asset.registered',
  'asset.postprocessed',
  'webhook.created',
  'webhook.secret_rotated',
  'webhook.deleted',
  'webhook.disabled',
  'api_key.created',
  'api_key.revoked',
  'api_key.new_address',
  'analytics.rollups_rebuilt',
] as const;
export const ZAuditAction = z.enum(AuditActions);
export type TAuditAction = z.infer<typeof ZAuditAction>;

export const AuditTargetTypes = ['user', 'job', 'asset', 'webhook', 'api_key', 'analytics'] as const;

export const ZAuditEvent = z.object({
  id: z.string(),
  action: ZAuditAction,
  at: z.string().describe('ISO 8601 time of the event'),
  actor: z
    .object({
      userId: z
        .string()
        .nullable()
        .describe('The account that acted; null for a command-line script or an anonymous request'),
      email: z.string().nullable(),
      via: z.enum(['api', 'cli']),
    })
    .describe('Who did it'),
  target: z.object({
    type: z.enum(AuditTargetTypes),
    id: z.string(),
    label: z.string().nullable().describe("A readable name: the user's email, the job's prompt"),
  }),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  changes: z
    .object({ before: z.record(z.string(), z.unknown()), after: z.record(z.string(), z.unknown()) })
    .nullable()
    .describe('The changed fields, before and after'),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type TAuditEvent = z.infer<typeof ZAuditEvent>;

const ZInstant = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time');

export const ZListAuditInput = z.strictObject({
  page: ZPage,
  limit: queryInteger(1, 200).default(50),
  action: ZAuditAction.optional(),
  actorId: ZObjectId.optional().describe('Only events by this account'),
  targetId: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .describe('Only events about this user, job or asset'),
  targetType: z.enum(AuditTargetTypes).optional(),
  from: ZInstant.optional().describe('Only events at or after this time'),
  to: ZInstant.optional().describe('Only events before this time'),
});

export const ZAuditList = z.object({ events: z.array(ZAuditEvent), pagination: ZPagination });
export type TAuditList = z.infer<typeof ZAuditList>;
