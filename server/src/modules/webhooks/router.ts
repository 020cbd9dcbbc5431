import { z } from 'zod';

import {
  ZCreateWebhookInput,
  ZDeleteWebhookResult,
  ZListWebhookDeliveriesInput,
  ZRedeliverWebhookInput,
  ZUpdateWebhookInput,
  ZWebhookDelivery,
  ZWebhookDeliveryList,
  ZWebhookEndpoint,
  ZWebhookEndpointWithSecret,
  ZWebhookIdInput,
} from '@gen3d/shared';

import { authedProcedure, router } from '../../trpc/trpc.js';

const tags = ['webhooks'];

export const webhooksRouter = router({
  create: authedProcedure
    .meta({
      apiKeyScope: 'webhooks:write',
      openapi: {
        method: 'POST',
        path: '/webhooks',
        tags,
        summary: 'Register a webhook endpoint for job events',
        description:
          'Deliveries follow the Standard Webhooks specification. The answer carries the signing secret, shown this once.',
        protect: true,
      },
      successStatus: 201,
      errorCodes: ['WEBHOOK_URL_REFUSED', 'QUOTA_EXCEEDED'],
    })
    .input(ZCreateWebhookInput)
    .output(ZWebhookEndpointWithSecret)
    .mutation(({ ctx, input }) => ctx.services.webhooks.create(ctx.actor, input)),

  list: authedProcedure
    .meta({
      apiKeyScope: 'webhooks:read',
      openapi: { method: 'GET', path: '/webhooks', tags, summary: 'Your webhook endpoints', protect: true },
    })
    .input(z.void())
    .output(z.array(ZWebhookEndpoint))
    .query(({ ctx }) => ctx.services.webhooks.list(ctx.user.id)),

  get: authedProcedure
    .meta({
      apiKeyScope: 'webhooks:read',
      openapi: {
        method: 'GET',
        path: '/webhooks/{id}',
        tags,
        summary: 'One webhook endpoint',
        protect: true,
      },
    })
    .input(ZWebhookIdInput)
    .output(ZWebhookEndpoint)
    .query(({ ctx, input }) => ctx.services.webhooks.get(ctx.user.id, input.id)),

  update: authedProcedure
    .meta({
      apiKeyScope: 'webhooks:write',
      openapi: {
        method: 'PATCH',
        path: '/webhooks/{id}',
        tags,
        summary: 'Change, enable or disable a webhook endpoint',
        protect: true,
      },
      errorCodes: ['WEBHOOK_URL_REFUSED'],
    })
    .input(ZUpdateWebhookInput)
    .output(ZWebhookEndpoint)
    .mutation(({ ctx, input }) => ctx.services.webhooks.update(ctx.user.id, input)),

  delete: authedProcedure
    .meta({
      apiKeyScope: 'webhooks:write',
      openapi: {
        method: 'DELETE',
        path: '/webhooks/{id}',
        tags,
        summary: 'Delete a webhook endpoint with its deliveries',
        protect: true,
      },
    })
    .input(ZWebhookIdInput)
    .output(ZDeleteWebhookResult)
    .mutation(async ({ ctx, input }) => {
      await ctx.services.webhooks.delete(ctx.actor, input.id);
      return { ok: true as const };
    }),

  rotateSecret: authedProcedure
    .meta({
      apiKeyScope: 'webhooks:write',
      openapi: {
        method: 'POST',
        path: '/webhooks/{id}/rotate-secret',
        tags,
        summary: "Replace an endpoint's signing secret",
        description: 'The new secret is shown this once and signs every delivery from now on.',
        protect: true,
      },
    })
    .input(ZWebhookIdInput)
    .output(ZWebhookEndpointWithSecret)
    .mutation(({ ctx, input }) => ctx.services.webhooks.rotateSecret(ctx.actor, input.id)),

  deliveries: authedProcedure
    .meta({
      apiKeyScope: 'webhooks:read',
      openapi: {
        method: 'GET',
        path: '/webhooks/{id}/deliveries',
        tags,
        summary: "An endpoint's deliveries, newest first, with their attempts",
        protect: true,
      },
    })
    .input(ZListWebhookDeliveriesInput)
    .output(ZWebhookDeliveryList)
    .query(({ ctx, input }) =>
      ctx.services.webhooks.deliveries(ctx.user.id, input.id, { page: input.page, limit: input.limit }),
    ),

  redeliver: authedProcedure
    .meta({
      apiKeyScope: 'webhooks:write',
      openapi: {
        method: 'POST',
        path: '/webhooks/{id}/deliveries/{deliveryId}/redeliver',
        tags,
        summary: 'Send a delivery again',
        description: 'Same webhook-id and body, a fresh schedule of attempts.',
        protect: true,
      },
      errorCodes: ['WEBHOOK_ENDPOINT_DISABLED'],
    })
    .input(ZRedeliverWebhookInput)
    .output(ZWebhookDelivery)
    .mutation(({ ctx, input }) => ctx.services.webhooks.redeliver(ctx.user.id, input.id, input.deliveryId)),
});
