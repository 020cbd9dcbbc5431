import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { FastifyInstance } from 'fastify';
import type { Types } from 'mongoose';

import type { TJob } from '@gen3d/shared';

import type { Config } from '../../config.js';
import { derivedKey } from '../../infra/derived-keys.js';
import type { Mailer } from '../../infra/mailer.js';
import { publicAddressPolicy } from '../../infra/public-addresses.js';
import type { JobEvents } from '../../jobs/job-events.js';
import type { JobRecord } from '../../jobs/job-model.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { OwnedData } from '../users/owned-data.js';
import { WebhookDeliveryWorkers } from './delivery-workers.js';
import { endpointDisabledEmail } from './emails.js';
import { createWebhookEventRecorder } from './event-recorder.js';
import { webhookDeliveryModel, webhookEndpointModel } from './model.js';
import { createSecretBox } from './secrets.js';
import { createWebhookSender } from './sender.js';
import { createWebhookService } from './service.js';

export interface WebhooksModuleDeps {
  events: JobEvents;
  view(job: JobRecord): TJob;
  audit: AuditLog;
  mailer: Mailer;
  /** The email of an account, when it still exists. */
  ownerEmail(ownerId: Types.ObjectId): Promise<string | undefined>;
}

/** The server acting on its own (disabling a failing endpoint), as the audit log names it. */
const deliveriesActor: Actor = {
  userId: null,
  email: null,
  via: 'api',
  ip: null,
  userAgent: 'gen3d webhook deliveries',
};

/**
 * Webhooks: endpoints users register, deliveries recorded from job changes and sent by leased workers.
 * Its hooks start the workers with the app and stop them (and the recording) before it closes.
 */
export function createWebhooksModule(app: FastifyInstance, config: Config, deps: WebhooksModuleDeps) {
  const connection = app.database.connection;
  const endpoints = webhookEndpointModel(connection);
  const deliveries = webhookDeliveryModel(connection);
  const secrets = createSecretBox(derivedKey(config.jwtSecret, 'webhook-secrets'));
  const policy = publicAddressPolicy(config.webhooks.allowedHosts);
  const sender = createWebhookSender(policy, config.webhooks.timeoutMs);
  const workers = new WebhookDeliveryWorkers({
    endpoints,
    deliveries,
    sender,
    secrets,
    config: config.webhooks,
    workerId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    log: app.log,
    async onEndpointDisabled(endpoint) {
      const reason = endpoint.disabledReason ?? 'its deliveries kept failing';
      app.log.warn({ endpointId: endpoint._id.toHexString() }, 'disabled a failing webhook endpoint');
      await deps.audit.record({
        action: 'webhook.disabled',
        actor: deliveriesActor,
        target: { type: 'webhook', id: endpoint._id.toHexString(), label: endpoint.url },
        details: { reason, ownerId: endpoint.ownerId.toHexString() },
      });
      const to = await deps.ownerEmail(endpoint.ownerId);
      if (to)
        await deps.mailer
          .send(endpointDisabledEmail(to, endpoint.url, reason))
          .catch((error: unknown) =>
            app.log.error({ err: error }, 'mailing the owner of a disabled webhook endpoint failed'),
          );
    },
  });
  const recorder = createWebhookEventRecorder({
    events: deps.events,
    endpoints,
    deliveries,
    view: deps.view,
    log: app.log,
    onRecorded: () => workers.wake(),
  });
  const service = createWebhookService({
    endpoints,
    deliveries,
    secrets,
    urlRules: {
      policy,
      allowedHosts: config.webhooks.allowedHosts,
      requireHttps: config.webhooks.requireHttps,
    },
    maxEndpointsPerUser: config.webhooks.maxEndpointsPerUser,
    audit: deps.audit,
    onRedelivery: () => workers.wake(),
  });
  app.addHook('onReady', async () => workers.start());
  app.addHook('preClose', async () => {
    await recorder.close();
    await workers.stop();
  });
  app.addHook('onClose', async () => sender.close());
  const ownedData: OwnedData = { kind: 'webhookEndpoints', deleteAllOf: service.deleteAllOf };
  return { service, ownedData };
}
