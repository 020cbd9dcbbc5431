import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Connection, Types } from 'mongoose';

import type { Config, RateLimitConfig } from './config.js';
import { createAccessTokens, type AccessTokens } from './infra/access-tokens.js';
import { createMailer } from './infra/mailer.js';
import { createMemoryRateLimiter, createRedisRateLimiter } from './infra/rate-limiter.js';
import { StreamSlots } from './infra/stream-slots.js';
import { createJobCancellation } from './jobs/cancellation.js';
import { JobEvents } from './jobs/job-events.js';
import { jobModel } from './jobs/job-model.js';
import { JobWatcher } from './jobs/job-watcher.js';
import { createJobQueue, type OnJobFinished } from './jobs/queue.js';
import { WorkerPool, type WorkerPoolOptions } from './jobs/worker-pool.js';
import { MeshPool } from './meshes/mesh-pool.js';
import { createModelServerClients } from './model-servers/model-server-clients.js';
import { createModelServerHealthService } from './modules/admin/model-server-health.js';
import { createAdminOverviewService } from './modules/admin/overview-service.js';
import { createAnalyticsService } from './modules/analytics/service.js';
import { assetModel } from './modules/assets/model.js';
import { createAssetRegistration } from './modules/assets/registration.js';
import { createAssetService } from './modules/assets/service.js';
import { createAssetUsage } from './modules/assets/usage.js';
import { createAuditLog, type AuditLog } from './modules/audit/audit-log.js';
import { auditEventModel, ensureAuditRetention } from './modules/audit/model.js';
import { authModels, authOwnedData } from './modules/auth/model.js';
import { createPasswordService } from './modules/auth/password-service.js';
import { createRegistrationService } from './modules/auth/registration-service.js';
import { createSessionService } from './modules/auth/session-service.js';
import { chatModel, type ChatModel } from './modules/chats/model.js';
import { createChatService } from './modules/chats/service.js';
import { createOutcomeMessages } from './modules/generation/outcome-messages.js';
import { createGenerationProcessor } from './modules/generation/processor.js';
import { createGenerationService } from './modules/generation/service.js';
import { messageModel, type MessageModel } from './modules/messages/model.js';
import { createMessageService } from './modules/messages/service.js';
import { createStoredObjectCaps } from './modules/quotas/stored-object-caps.js';
import { createSystemService } from './modules/system/service.js';
import { createAccountReader } from './modules/users/account-reader.js';
import { userModel } from './modules/users/model.js';
import type { OwnedData } from './modules/users/owned-data.js';
import { createUserServices } from './modules/users/user-services.js';
import type { AppServices } from './services.js';
import type { AssetStorage } from './storage/asset-storage.js';
import { createConfiguredStorage } from './storage/configured-storage.js';
import type { AssetUrlSigner } from './storage/signed-urls.js';
import { SERVER_VERSION } from './version.js';

/** The account services on a mongoose connection; `ownedData` lists what else goes when an account is deleted. */
export function buildAccountServices(
  connection: Connection,
  config: Config,
  log: FastifyBaseLogger,
  options: {
    ownedData?: OwnedData[];
    redis?: Redis | undefined;
    audit?: AuditLog;
    accessTokens?: AccessTokens;
  } = {},
) {
  const users = userModel(connection);
  const models = authModels(connection);
  const audit = options.audit ?? createAuditLog(auditEventModel(connection), log);
  const { loginFailureThreshold } = config.audit;
  const failureWindowMs = config.authRateLimit.windowMs;
  // Failed logins are counted per account only.
  const failureLimits = { account: loginFailureThreshold, address: loginFailureThreshold };
  const sessions = createSessionService({
    users,
    accounts: createAccountReader(users),
    models,
    accessTokens:
      options.accessTokens ?? createAccessTokens(config.jwtSecret, config.auth.accessTokenTtlSeconds),
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    log,
    audit,
    loginFailures: options.redis
      ? createRedisRateLimiter(options.redis, 'login-failures', failureLimits, failureWindowMs)
      : createMemoryRateLimiter(failureLimits, failureWindowMs),
    loginFailureThreshold,
  });
  const userServices = createUserServices(
    users,
    sessions,
    [...(options.ownedData ?? []), ...authOwnedData(models)],
    audit,
  );
  return { userRecords: users, models, sessions, users: userServices, audit };
}

export interface BuiltServices {
  services: AppServices;
  /** This instance's workers; started when the app is ready, stopped before it closes. */
  workers: WorkerPool;
}

/** The generation side: storage, model servers, the queue and its workers, live updates. */
function buildGeneration(
  app: FastifyInstance,
  config: Config,
  modelServerUrl: string,
  chats: ChatModel,
  messagesModel: MessageModel,
  audit: AuditLog,
  onJobRunEnded: WorkerPoolOptions['onRunEnded'],
) {
  const connection = app.database.connection;
  const { storage, signer } = createConfiguredStorage(config, connection);
  const assetRecords = assetModel(connection);
  const assets = createAssetService(
    assetRecords,
    storage,
    signer,
    createAssetUsage(connection, assetRecords),
  );
  const jobs = jobModel(connection);
  const events = new JobEvents();
  const { jobs: policy } = config;
  const watcher = new JobWatcher(jobs, events, {
    pollIntervalMs: policy.watchIntervalMs,
    overlapMs: policy.watchOverlapMs,
  });
  const clients = createModelServerClients(config, modelServerUrl);
  const { modelServers } = clients;
  // Chats cancel their jobs; finished jobs are announced in their chats. Cancelling needs nothing of the
  // announcement, so chats and messages are built first and the queue after them.
  const cancellation = createJobCancellation(jobs, events);
  const caps = createStoredObjectCaps(
    { chats, messages: messagesModel, usedAssetBytes: (ownerId) => assets.usedBytes(ownerId) },
    config.storedObjects,
  );
  const chatService = createChatService({
    chats,
    messages: messagesModel,
    assets,
    cancelJobsOfChat: (chatId: Types.ObjectId) => cancellation.cancelWhere({ chatId }),
    caps,
  });
  const messages = createMessageService(messagesModel, chatService, assets, caps);
  const outcomeMessages = createOutcomeMessages(messages);
  const announce: OnJobFinished = (job) =>
    outcomeMessages(job).catch((error: unknown) =>
      app.log.error({ err: error, jobId: job._id.toHexString() }, 'writing the assistant message failed'),
    );
  const queue = createJobQueue(jobs, events, policy, { cancellation, onFinished: announce });
  const meshes = new MeshPool({ ...config.meshes, maxFileBytes: config.assets.maxFileBytes });
  app.addHook('onReady', () => meshes.start());
  const processor = createGenerationProcessor({
    modelServers,
    assets,
    meshes,
    pollIntervalMs: config.modelServers.calls.pollIntervalMs,
  });
  const workers = new WorkerPool(queue, processor, {
    concurrency: policy.workerConcurrency,
    pollIntervalMs: policy.pollIntervalMs,
    leaseMs: policy.leaseMs,
    timeoutMs: policy.timeoutMs,
    cancelCheckMs: policy.cancelCheckMs,
    progressIntervalMs: policy.progressIntervalMs,
    workerId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    log: app.log,
    onRunEnded: onJobRunEnded,
  });
  const closing = new AbortController();
  const generation = createGenerationService({
    jobs,
    queue,
    events,
    watcher,
    chats: chatService,
    messages,
    assets,
    modelServerNames: [...modelServers.keys()],
    defaultModelServer: config.modelServers.defaultName,
    dailyQuota: policy.dailyQuota,
    generateTimeoutMs: policy.generateTimeoutMs,
    onQueued: () => workers.wake(),
    closing: closing.signal,
    audit,
    caps,
    streams: new StreamSlots(config.streams),
  });
  // Live-update streams never end by themselves; a shutdown ends them so the server can close.
  app.addHook('preClose', async () => closing.abort());
  app.addHook('onClose', async () => {
    watcher.close();
    await Promise.all([clients.close(), meshes.close()]);
  });
  // A deleted account's jobs stop first, then its files and records go.
  const ownedData: OwnedData[] = [
    {
      kind: 'jobs',
      deleteAllOf: async (ownerId) => {
        await queue.cancelWhere({ ownerId });
        return (await jobs.deleteMany({ ownerId })).deletedCount;
      },
    },
    { kind: 'assets', deleteAllOf: (ownerId) => assets.deleteWhere({ ownerId }) },
    {
      kind: 'messages',
      deleteAllOf: async (ownerId) => (await messagesModel.deleteMany({ ownerId })).deletedCount,
    },
    { kind: 'chats', deleteAllOf: async (ownerId) => (await chats.deleteMany({ ownerId })).deletedCount },
  ];
  return {
    chats: chatService,
    messages,
    assets,
    generation,
    workers,
    storage,
    signer,
    ownedData,
    modelServers,
    modelServerNames: [...modelServers.keys()],
    jobs,
    assetRecords,
    meshes,
    caps,
    download: clients.download,
  };
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
  const generation = buildGeneration(
    app,
    config,
    modelServerUrl,
    chatRecords,
    messageRecords,
    audit,
    onJobRunEnded,
  );
  const {
    userRecords: users,
    models,
    sessions,
    users: userServices,
  } = buildAccountServices(app.database.connection, config, log, {
    ownedData: generation.ownedData,
    redis,
    audit,
    accessTokens,
  });
  app.addHook('onReady', () => ensureAuditRetention(auditEvents, config.audit.retentionDays));
  const mailer = createMailer(config.mail, log);
  app.addHook('onClose', async () => mailer.close());
  const limiter = (name: string, { limits, windowMs }: RateLimitConfig) =>
    redis ? createRedisRateLimiter(redis, name, limits, windowMs) : createMemoryRateLimiter(limits, windowMs);
  const authLimiter = (name: string) => limiter(name, config.authRateLimit);
  const services: AppServices = {
    system: createSystemService({
      version: SERVER_VERSION,
      startedAt,
      databaseKind: app.database.kind,
      isDatabaseReachable: () => app.database.isReachable(),
      modelServers: { default: config.modelServers.defaultName, available: generation.modelServerNames },
    }),
    registration: createRegistrationService({ users, models, mailer, codePepper: config.jwtSecret, log }),
    sessions,
    passwords: createPasswordService({ users, models, mailer, sessions, appUrl: config.appUrl, log, audit }),
    users: userServices,
    modelServerHealth: createModelServerHealthService(
      generation.modelServers,
      config.modelServers.defaultName,
    ),
    adminOverview: createAdminOverviewService({
      users,
      directory: userServices.directory,
      jobs: generation.jobs,
      assets: generation.assetRecords,
      assetService: generation.assets,
      chats: chatRecords,
      messages: messageRecords,
      refreshTokens: models.RefreshToken,
    }),
    analytics: createAnalyticsService({
      jobs: generation.jobs,
      assets: generation.assetRecords,
      assetService: generation.assets,
      chats: chatRecords,
      messages: messageRecords,
    }),
    audit,
    limits: {
      register: authLimiter('register'),
      verify: authLimiter('verify'),
      login: authLimiter('login'),
      refresh: authLimiter('refresh'),
      passwordReset: authLimiter('password-reset'),
      passwordCheck: authLimiter('password-check'),
      generation: limiter('generation', config.generationRateLimit),
    },
    chats: generation.chats,
    messages: generation.messages,
    assets: generation.assets,
    generation: generation.generation,
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
  };
  return { services, workers: generation.workers, storage: generation.storage, signer: generation.signer };
}
