import { Types } from 'mongoose';
import type { z } from 'zod';

import type {
  TWebhookDelivery,
  TWebhookEndpoint,
  TWebhookEventType,
  ZCreateWebhookInput,
  ZUpdateWebhookInput,
  ZWebhookDeliveryList,
} from '@gen3d/shared';

import { onPage, paginationOf, type PageRequest } from '../../db/paging.js';
import { DomainError, NotFound } from '../../domain-errors.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type {
  WebhookDeliveryModel,
  WebhookDeliveryRecord,
  WebhookEndpointModel,
  WebhookEndpointRecord,
} from './model.js';
import { newSigningSecret, secretPrefixOf, type SecretBox } from './secrets.js';
import { checkEndpointUrl, type EndpointUrlRules } from './url-policy.js';

export interface WebhookServiceDeps {
  endpoints: WebhookEndpointModel;
  deliveries: WebhookDeliveryModel;
  secrets: SecretBox;
  urlRules: EndpointUrlRules;
  maxEndpointsPerUser: number;
  audit: AuditLog;
  /** Redelivered deliveries are due now: this instance's workers look at once. */
  onRedelivery(): void;
}

export type TWebhookEndpointWithSecret = TWebhookEndpoint & { secret: string };

export interface WebhookService {
  create(actor: Actor, input: z.output<typeof ZCreateWebhookInput>): Promise<TWebhookEndpointWithSecret>;
  list(ownerId: string): Promise<TWebhookEndpoint[]>;
  get(ownerId: string, id: string): Promise<TWebhookEndpoint>;
  update(ownerId: string, input: z.output<typeof ZUpdateWebhookInput>): Promise<TWebhookEndpoint>;
  delete(actor: Actor, id: string): Promise<void>;
  rotateSecret(actor: Actor, id: string): Promise<TWebhookEndpointWithSecret>;
  deliveries(ownerId: string, id: string, page: PageRequest): Promise<z.output<typeof ZWebhookDeliveryList>>;
  /** Sends the delivery again (same webhook-id), with a fresh schedule of attempts. */
  redeliver(ownerId: string, id: string, deliveryId: string): Promise<TWebhookDelivery>;
  /** Deletes the account's endpoints and their deliveries; answers how many endpoints went. */
  deleteAllOf(ownerId: Types.ObjectId): Promise<number>;
}

export function endpointView(endpoint: WebhookEndpointRecord): TWebhookEndpoint {
  return {
    id: endpoint._id.toHexString(),
    url: endpoint.url,
    events: endpoint.events as TWebhookEventType[],
    description: endpoint.description,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason ?? null,
    secretPrefix: endpoint.secretPrefix,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  };
}

type DeliveryRecord = WebhookDeliveryRecord & { _id: string; createdAt: Date; updatedAt: Date };

function deliveryView(delivery: DeliveryRecord): TWebhookDelivery {
  return {
    id: delivery._id,
    endpointId: delivery.endpointId.toHexString(),
    jobId: delivery.jobId.toHexString(),
    type: delivery.type as TWebhookEventType,
    status: delivery.status as TWebhookDelivery['status'],
    attemptCount: delivery.attemptCount,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    payload: delivery.payload,
    attempts: delivery.attempts.map((attempt) => ({
      at: attempt.at.toISOString(),
      status: attempt.status ?? null,
      latencyMs: attempt.latencyMs,
      error: attempt.error ?? null,
    })),
    createdAt: delivery.createdAt.toISOString(),
    updatedAt: delivery.updatedAt.toISOString(),
  };
}

const notFound = () => new NotFound('Webhook endpoint not found');

export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const { endpoints, deliveries } = deps;

  async function owned(ownerId: string, id: string): Promise<WebhookEndpointRecord> {
    const endpoint = await endpoints
      .findOne({ _id: new Types.ObjectId(id), ownerId: new Types.ObjectId(ownerId) })
      .lean<WebhookEndpointRecord>();
    if (!endpoint) throw notFound();
    return endpoint;
  }

  const target = (endpoint: WebhookEndpointRecord) => ({
    type: 'webhook' as const,
    id: endpoint._id.toHexString(),
    label: endpoint.url,
  });

  return {
    async create(actor, input) {
      const ownerId = new Types.ObjectId(actor.userId ?? '');
      await checkEndpointUrl(input.url, deps.urlRules);
      if ((await endpoints.countDocuments({ ownerId })) >= deps.maxEndpointsPerUser)
        throw new DomainError(
          'QUOTA_EXCEEDED',
          `You have ${deps.maxEndpointsPerUser} webhook endpoints, the most an account may have; delete one first`,
        );
      const secret = newSigningSecret();
      const created = (
        await endpoints.create({
          ownerId,
          url: input.url,
          events: input.events,
          description: input.description,
          secretCiphertext: deps.secrets.seal(secret),
          secretPrefix: secretPrefixOf(secret),
        })
      ).toObject() as WebhookEndpointRecord;
      await deps.audit.record({
        action: 'webhook.created',
        actor,
        target: target(created),
        details: { events: input.events },
      });
      return { ...endpointView(created), secret };
    },

    async list(ownerId) {
      const found = await endpoints
        .find({ ownerId: new Types.ObjectId(ownerId) })
        .sort({ createdAt: 1 })
        .lean<WebhookEndpointRecord[]>();
      return found.map(endpointView);
    },

    async get(ownerId, id) {
      return endpointView(await owned(ownerId, id));
    },

    async update(ownerId, { id, url, events, description, enabled }) {
      const endpoint = await owned(ownerId, id);
      if (url !== undefined && url !== endpoint.url) await checkEndpointUrl(url, deps.urlRules);
      const enabling = enabled === true && !endpoint.enabled;
      const updated = await endpoints
        .findOneAndUpdate(
          { _id: endpoint._id },
          {
            $set: {
              ...(url === undefined ? {} : { url }),
              ...(events === undefined ? {} : { events }),
              ...(description === undefined ? {} : { description }),
              ...(enabled === undefined ? {} : { enabled }),
              ...(enabled === undefined ? {} : { disabledReason: null }),
              ...(enabling ? { consecutiveFailures: 0 } : {}),
            },
          },
          { returnDocument: 'after' },
        )
        .lean<WebhookEndpointRecord>();
      if (!updated) throw notFound();
      return endpointView(updated);
    },

    async delete(actor, id) {
      const endpoint = await owned(actor.userId ?? '', id);
      await endpoints.deleteOne({ _id: endpoint._id });
      await deliveries.deleteMany({ endpointId: endpoint._id });
      await deps.audit.record({ action: 'webhook.deleted', actor, target: target(endpoint) });
    },

    async rotateSecret(actor, id) {
      const endpoint = await owned(actor.userId ?? '', id);
      const secret = newSigningSecret();
      const updated = await endpoints
        .findOneAndUpdate(
          { _id: endpoint._id },
          { $set: { secretCiphertext: deps.secrets.seal(secret), secretPrefix: secretPrefixOf(secret) } },
          { returnDocument: 'after' },
        )
        .lean<WebhookEndpointRecord>();
      if (!updated) throw notFound();
      await deps.audit.record({ action: 'webhook.secret_rotated', actor, target: target(updated) });
      return { ...endpointView(updated), secret };
    },

    async deliveries(ownerId, id, page) {
      const endpoint = await owned(ownerId, id);
      const filter = { endpointId: endpoint._id };
      const [items, total] = await Promise.all([
        onPage(deliveries.find(filter).sort({ createdAt: -1, sequence: -1 }), page).lean<DeliveryRecord[]>(),
        deliveries.countDocuments(filter),
      ]);
      return { items: items.map(deliveryView), pagination: paginationOf(page, total) };
    },

    async redeliver(ownerId, id, deliveryId) {
      const endpoint = await owned(ownerId, id);
      if (!endpoint.enabled)
        throw new DomainError(
          'WEBHOOK_ENDPOINT_DISABLED',
          'The endpoint is disabled; enable it to redeliver',
        );
      const filter = { _id: deliveryId, endpointId: endpoint._id };
      const found = await deliveries.findOne(filter, { status: 1 }).lean<Pick<DeliveryRecord, 'status'>>();
      if (!found) throw new NotFound('Delivery not found');
      // A finished delivery starts a fresh schedule of attempts; a pending one is only brought forward.
      const reset =
        found.status === 'pending'
          ? { nextAttemptAt: new Date() }
          : { status: 'pending', attemptCount: 0, nextAttemptAt: new Date() };
      const again = await deliveries
        .findOneAndUpdate({ ...filter, status: found.status }, { $set: reset }, { returnDocument: 'after' })
        .lean<DeliveryRecord>();
      if (!again) throw new DomainError('CONFLICT', 'The delivery changed meanwhile; try again');
      deps.onRedelivery();
      return deliveryView(again);
    },

    async deleteAllOf(ownerId) {
      await deliveries.deleteMany({ ownerId });
      return (await endpoints.deleteMany({ ownerId })).deletedCount;
    },
  };
}
