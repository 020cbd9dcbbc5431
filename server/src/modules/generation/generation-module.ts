import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { FastifyInstance } from 'fastify';
import type { Types } from 'mongoose';

import type { Config } from '../../config.js';
import { StreamSlots } from '../../infra/stream-slots.js';
import { createJobCancellation } from '../../jobs/cancellation.js';
import { JobEvents } from '../../jobs/job-events.js';
import { jobModel } from '../../jobs/job-model.js';
import { JobWatcher } from '../../jobs/job-watcher.js';
import { processorByKind } from '../../jobs/processor-by-kind.js';
import { createQueueEstimates } from '../../jobs/queue-estimates.js';
import { QueueTicks } from '../../jobs/queue-ticks.js';
import { createJobQueue, type OnJobFinished } from '../../jobs/queue.js';
import { createRunDurations } from '../../jobs/run-durations.js';
import { WorkerPool, type WorkerPoolOptions } from '../../jobs/worker-pool.js';
import { WorkerRegistry } from '../../jobs/worker-registry.js';
import { MeshPool } from '../../meshes/mesh-pool.js';
import { createModelServerClients } from '../../model-servers/model-server-clients.js';
import { createConfiguredStorage } from '../../storage/configured-storage.js';
import { rollupModels } from '../analytics/rollup-model.js';
import { createAnalyticsRollups } from '../analytics/rollups.js';
import { assetModel } from '../assets/model.js';
import { createAssetService } from '../assets/service.js';
import { createAssetUsage } from '../assets/usage.js';
import { type AuditLog } from '../audit/audit-log.js';
import { type ChatModel } from '../chats/model.js';
import { createChatService } from '../chats/service.js';
import { type MessageModel } from '../messages/model.js';
import { createMessageService } from '../messages/service.js';
import { createPostprocessingProcessor } from '../postprocessing/processor.js';
import { createPostprocessingService } from '../postprocessing/service.js';
import { createStoredObjectCaps } from '../quotas/stored-object-caps.js';
import type { OwnedData } from '../users/owned-data.js';
import { createOutcomeMessages } from './outcome-messages.js';
import { createGenerationProcessor } from './processor.js';
import { createGenerationService } from './service.js';

/**
 * The generation side: asset storage, model servers, chats and messages, the queue and its workers, live
 * updates. Its hooks start and stop what it owns with the app.
 */
export function createGenerationModule(
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
  const jobs = jobModel(connection);
  const rollupRecords = rollupModels(connection);
  const rollups = createAnalyticsRollups({
    ...rollupRecords,
    chats,
    jobs,
    assets: assetRecords,
    messages: messagesModel,
    log: app.log,
  });
  // Built before this instance's workers start (the app starts them on ready after this hook).
  app.addHook('onReady', async () => {
    await rollups
      .ensureBuilt()
      .catch((error: unknown) => app.log.error({ err: error }, 'building the analytics rollups failed'));
  });
  const assets = createAssetService(
    assetRecords,
    storage,
    signer,
    createAssetUsage(connection, assetRecords),
    rollups,
  );
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
  const cancellation = createJobCancellation(jobs, events, rollups);
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
  const queue = createJobQueue(jobs, events, policy, { cancellation, onFinished: announce, rollups });
  const meshes = new MeshPool({ ...config.meshes, maxFileBytes: config.assets.maxFileBytes });
  const postprocessor = createPostprocessingProcessor({ assets, meshes });
  const processor = processorByKind({
    generate: createGenerationProcessor({
      modelServers,
      assets,
      meshes,
      pollIntervalMs: config.modelServers.calls.pollIntervalMs,
    }),
    simplify: postprocessor,
    weld: postprocessor,
    recenter: postprocessor,
    convert: postprocessor,
  });
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const workers = new WorkerPool(queue, processor, {
    concurrency: policy.workerConcurrency,
    pollIntervalMs: policy.pollIntervalMs,
    leaseMs: policy.leaseMs,
    timeoutMs: policy.timeoutMs,
    cancelCheckMs: policy.cancelCheckMs,
    progressIntervalMs: policy.progressIntervalMs,
    workerId,
    log: app.log,
    onRunEnded: onJobRunEnded,
  });
  // Every instance with workers says how many, so queue ETAs count the workers of all instances.
  const registry = new WorkerRegistry(connection, { ttlMs: policy.leaseMs });
  const registryFailed = (error: unknown) =>
    app.log.warn({ err: error }, "registering this instance's workers failed");
  app.addHook('onReady', () =>
    registry.join(workerId, policy.workerConcurrency, registryFailed).catch(registryFailed),
  );
  // Leaving starts as the app stops but is not waited for there: that would hold the listener open.
  let leaving: Promise<void> | undefined;
  app.addHook('preClose', (done) => {
    leaving = registry.leave(workerId).catch(registryFailed);
    done();
  });
  const estimates = createQueueEstimates({
    jobs,
    durations: createRunDurations(jobs, { sampleSize: policy.etaSampleSize, cacheMs: policy.queueRefreshMs }),
    totalWorkers: () => registry.totalConcurrency(),
    events,
    cacheMs: policy.queueRefreshMs,
  });
  const ticks = new QueueTicks(events, {
    throttleMs: policy.watchIntervalMs,
    refreshMs: policy.queueRefreshMs,
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
    modelServerInputs: new Map([...modelServers].map(([name, server]) => [name, server.inputs])),
    defaultModelServer: config.modelServers.defaultName,
    dailyQuota: policy.dailyQuota,
    generateTimeoutMs: policy.generateTimeoutMs,
    onQueued: () => workers.wake(),
    closing: closing.signal,
    audit,
    caps,
    streams: new StreamSlots(config.streams),
    estimates,
    ticks,
  });
  const postprocessing = createPostprocessingService({
    jobs,
    queue,
    chats: chatService,
    assets,
    generation,
    audit,
    caps,
    dailyQuota: policy.postprocessDailyQuota,
    maxSourceTriangles: policy.postprocessMaxTriangles,
    onQueued: () => workers.wake(),
  });
  // Live-update streams never end by themselves; a shutdown ends them so the server can close.
  app.addHook('preClose', async () => closing.abort());
  app.addHook('onClose', async () => {
    await leaving;
    watcher.close();
    ticks.close();
    await Promise.all([clients.close(), meshes.close()]);
  });
  // A deleted account's jobs stop first, then its files and records go.
  const ownedData: OwnedData[] = [
    {
      kind: 'jobs',
      deleteAllOf: async (ownerId) => {
        await queue.cancelWhere({ ownerId });
        const { deletedCount } = await jobs.deleteMany({ ownerId });
        await rollups.ownerJobsDeleted(ownerId);
        return deletedCount;
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
    rollups,
    rollupRecords,
    chats: chatService,
    messages,
    assets,
    generation,
    postprocessing,
    workers,
    storage,
    signer,
    ownedData,
    modelServers,
    modelServerNames: [...modelServers.keys()],
    jobs,
    events,
    assetRecords,
    meshes,
    caps,
    download: clients.download,
  };
}
