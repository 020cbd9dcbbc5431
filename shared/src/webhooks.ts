import { z } from 'zod';

import { ZObjectId } from './auth.js';
import { queryInteger, ZPage } from './query-params.js';
import { ZPagination } from './users.js';

/** The job events an endpoint can subscribe to: one per status a job reaches. */
export const WebhookEventTypes = [
  'job.queued',
  'job.running',
  'job.succeeded',
  'job.failed',
  'job.canceled',
] as const;
export const ZWebhookEventType = z.enum(WebhookEventTypes);
export type TWebhookEventType = z.infer<typeof ZWebhookEventType>;

export const ZWebhookUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2000)
  .describe('Where deliveries are POSTed; https in production, on a public address');

const ZEventList = z
  .array(ZWebhookEventType)
  .min(1, 'subscribe to at least one event')
  .max(WebhookEventTypes.length)
  .transform((events) => [...new Set(events)])
  .describe('The job events delivered to this endpoint');

const ZDescription = z.string().trim().max(500).describe('A note for yourself');

/** An endpoint as its owner sees it; its secret is shown only when created or rotated. */
export const ZWebhookEndpoint = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(ZWebhookEventType),
  description: z.string(),
  enabled: z.boolean(),
  disabledReason: z
    .string()
    .nullable()
    .describe('Why the server disabled the endpoint (its deliveries kept failing); null otherwise'),
  secretPrefix: z.string().describe('The first characters of the signing secret, to tell secrets apart'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TWebhookEndpoint = z.infer<typeof ZWebhookEndpoint>;

/** An endpoint with its signing secret: the only answers that carry it. */
export const ZWebhookEndpointWithSecret = ZWebhookEndpoint.extend({
  secret: z.string().describe('The signing secret (whsec_…), shown this once; verify deliveries with it'),
});

export const ZCreateWebhookInput = z.strictObject({
  url: ZWebhookUrl,
  events: ZEventList,
  description: ZDescription.default(''),
});

export const ZWebhookIdInput = z.strictObject({ id: ZObjectId });

export const ZUpdateWebhookInput = z.strictObject({
  id: ZObjectId,
  url: ZWebhookUrl.optional(),
  events: ZEventList.optional(),
  description: ZDescription.optional(),
  enabled: z.boolean().optional().describe('Enabling a disabled endpoint starts its deliveries again'),
});

export const ZDeleteWebhookResult = z.object({ ok: z.literal(true) });

export const ZWebhookAttempt = z.object({
  at: z.string().describe('When the attempt started'),
  status: z.number().int().nullable().describe("The receiver's HTTP status; null when none came"),
  latencyMs: z.number().int(),
  error: z.string().nullable().describe('What went wrong; null for a 2xx answer'),
});

export const ZWebhookDelivery = z.object({
  id: z.string().describe('The webhook-id header: the same for every attempt of this delivery'),
  endpointId: z.string(),
  jobId: z.string(),
  type: ZWebhookEventType,
  status: z
    .enum(['pending', 'succeeded', 'failed'])
    .describe('pending: being delivered or retried; failed: every attempt failed'),
  attemptCount: z.number().int().describe('Attempts since it was recorded or last redelivered'),
  nextAttemptAt: z.string().nullable(),
  payload: z.string().describe('The exact body POSTed'),
  attempts: z.array(ZWebhookAttempt).describe('The latest attempts, oldest first'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TWebhookDelivery = z.infer<typeof ZWebhookDelivery>;

export const ZListWebhookDeliveriesInput = z.strictObject({
  id: ZObjectId,
  page: ZPage,
  limit: queryInteger(1, 100).default(20),
});

export const ZWebhookDeliveryList = z.object({
  items: z.array(ZWebhookDelivery),
  pagination: ZPagination,
});

export const ZRedeliverWebhookInput = z.strictObject({
  id: ZObjectId,
  deliveryId: z.string().regex(/^msg_[0-9a-f]{32}$/, 'must be a delivery id (msg_…)'),
});
