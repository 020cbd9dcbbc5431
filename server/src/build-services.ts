import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';

import type { Config } from './config.js';
import { type AccessTokens } from './infra/access-tokens.js';
import { createActionLimiters } from './infra/action-limiters.js';
import { derivedKey } from './infra/derived-keys.js';
import { createMailer } from './infra/mailer.js';
import { type WorkerPool, type WorkerPoolOptions } from './jobs/worker-pool.js';
import type { MeshPool } from './meshes/mesh-pool.js';
import { createModelServerHealthService } from './modules/admin/model-server-health.js';
import { createAdminOverviewService } from './modules/admin/overview-service.js';
import { createRollupReads } from './modules/analytics/rollup-reads.js';
import { createAnalyticsService } from './modules/analytics/service.js';
import { createTotals } from './modules/analytics/totals.js';
import { createImageUploads } from './modules/assets/image-uploads.js';
import { createAssetRegistration } from './modules/assets/registration.js';
import { createAuditLog } from './modules/audit/audit-log.js';
import { auditEventModel, ensureAuditRetention } from './modules/audit/model.js';
import { createEmailCooldown } from './modules/auth/email-cooldown.js';
import { createPasswordService } from './modules/auth/password-service.js';
import { createRegistrationService } from './modules/auth/registration-service.js';
import { chatModel } from './modules/chats/model.js';
import { createGenerationModule } from './modules/generation/generation-module.js';
import { jobView } from './modules/generation/job-view.js';
import { messageModel } from './modules/messages/model.js';
import { createSystemService } from './modules/system/service.js';
import { buildAccountServices } from './modules/users/account-services.js';
import { createWebhooksModule } from './modules/webhooks/webhooks-module.js';
import type { AppServices } from './services.js';
import type { AssetStorage } from './storage/asset-storage.js';
import type { AssetUrlSigner } from './storage/signed-urls.js';
import { SERVER_VERSION } from './version.js';

export interface BuiltServices {
  services: AppServices;
  /** This instance's workers; started when the app is ready, stopped before it closes. */
  workers: WorkerPool;
  /** This instance's mesh worker threads (read by the metrics). */
  meshes: MeshPool;
}

/** Wires every service to the app's database connection, mailer and configuration; the mailer closes with the app. */
export function buildServices(
  app: FastifyInstance,
  config: Config,
  startedAt: Date,
  {
    redis,
    accessTokens,
    onJobRunEnded,
  }: {
    redis: Redis | undefined;
    accessTokens: AccessTokens;
    onJobRunEnded?: WorkerPoolOptions['onRunEnded'];
  },
  modelServerUrl: string,
): BuiltServices & { storage: AssetStorage; signer: AssetUrlSigner } {
  const log = app.log;
  const auditEvents = auditEventModel(app.database.connection);
  const audit = createAuditLog(auditEvents, log);
  const chatRecords = chatModel(app.database.connection);
  const messageRecords = messageModel(app.database.connection);
  const generation = createGenerationModule(
    app,
    config,
    modelServerUrl,
    chatRecords,
    messageRecords,
    audit,
    onJobRunEnded,
  );
  const totals = createTotals({
    rollups: generation.rollups,
    reads: createRollupReads(generation.rollupRecords),
    jobs: generation.jobs,
    assets: generation.assetRecords,
  });
  const mailer = createMailer(config.mail, log);
  app.addHook('onClose', async () => mailer.close());
  const webhooks = createWebhooksModule(app, config, {
    events: generation.events,
    view: (job) => jobView(job, generation.assets),
    audit,
    mailer,
    // The account records are built below, with the webhooks among the data an account deletion removes.
    ownerEmail: async (ownerId) =>
      (await users.findById(ownerId, { email: 1 }).lean<{ email: string }>())?.email,
  });
  const {
    userRecords: users,
    models,
    sessions,
    apiKeys,
    users: userServices,
    guesses,
  } = buildAccountServices(app.database.connection, config, log, {
    ownedData: [...generation.ownedData, webhooks.ownedData],
    redis,
    audit,
    accessTokens,
  });
  app.addHook('onReady', () => ensureAuditRetention(auditEvents, config.audit.retentionDays));
  const cooldown = createEmailCooldown(models, config.accountProtection.emailCooldownMs);
  const { passwordMinScore } = config.accountProtection;
  const services: AppServices = {
    system: createSystemService({
      version: SERVER_VERSION,
      startedAt,
      databaseKind: app.database.kind,
      isDatabaseReachable: () => app.database.isReachable(),
      modelServers: { default: config.modelServers.defaultName, available: generation.modelServerNames },
    }),
    registration: createRegistrationService({
      users,
      models,
      mailer,
      codePepper: derivedKey(config.jwtSecret, 'verification-codes'),
      log,
      cooldown,
      guesses,
      passwordMinScore,
    }),
    sessions,
    apiKeys,
    passwords: createPasswordService({
      users,
      models,
      mailer,
      sessions,
      appUrl: config.appUrl,
      log,
      audit,
      cooldown,
      guesses,
      passwordMinScore,
    }),
    users: userServices,
    modelServerHealth: createModelServerHealthService(
      generation.modelServers,
      config.modelServers.defaultName,
    ),
    adminOverview: createAdminOverviewService({
      users,
      directory: userServices.directory,
      jobs: generation.jobs,
      assetService: generation.assets,
      chats: chatRecords,
      messages: messageRecords,
      refreshFamilies: models.RefreshFamily,
      totals,
    }),
    analytics: createAnalyticsService({
      audit,
      rollups: generation.rollups,
      rollupRecords: generation.rollupRecords,
      totals,
      jobs: generation.jobs,
      assets: generation.assetRecords,
      assetService: generation.assets,
      chats: chatRecords,
      messages: messageRecords,
    }),
    audit,
    limits: createActionLimiters(config, redis),
    chats: generation.chats,
    messages: generation.messages,
    assets: generation.assets,
    generation: generation.generation,
    postprocessing: generation.postprocessing,
    webhooks: webhooks.service,
    assetRegistration: createAssetRegistration({
      assets: generation.assets,
      users,
      chats: generation.chats,
      generation: generation.generation,
      download: generation.download,
      meshes: generation.meshes,
      caps: generation.caps,
      audit,
    }),
    imageUploads: createImageUploads({
      assets: generation.assets,
      caps: generation.caps,
      limits: config.images,
    }),
  };
  return {
    services,
    workers: generation.workers,
    meshes: generation.meshes,
    storage: generation.storage,
    signer: generation.signer,
  };
}
