import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';

import { buildServices } from './build-services.js';
import type { Config } from './config.js';
import { databasePlugin, type DatabasePluginOptions } from './db/database-plugin.js';
import { RateLimited } from './domain-errors.js';
import { assetRoutes } from './http/asset-routes.js';
import { answerClientError, answerFrameworkError } from './http/client-errors.js';
import { demoPageRoutes } from './http/demo-page.js';
import { registerErrorResponses } from './http/error-responses.js';
import { healthRoutes } from './http/health-routes.js';
import { parseJsonBodies, trpcInputShapeHook } from './http/json-bodies.js';
import { refuseUndecodableQuery } from './http/query-strings.js';
import { globalRateLimitKey } from './http/rate-limit-key.js';
import { requestBaseUrlHook } from './http/request-base-url.js';
import { generateRequestId } from './http/request-id.js';
import { securityHeaders } from './http/security-headers.js';
import { closeConnectionsWhenStopping } from './http/stopping-connections.js';
import { sendTrpcAnswers } from './http/trpc-answers.js';
import { limitTrpcBatches } from './http/trpc-batches.js';
import { fastifyTrustProxy } from './http/trusted-proxies.js';
import { createAccessTokens } from './infra/access-tokens.js';
import { jobModel } from './jobs/job-model.js';
import { createAppMetrics } from './metrics/app-metrics.js';
import { metricsRoute } from './metrics/metrics-route.js';
import { apiDocsRoutes } from './rest/api-docs.js';
import { describeRestApi } from './rest/openapi-document.js';
import { restPlugin } from './rest/plugin.js';
import type { AppServices } from './services.js';
import { createContextFactory } from './trpc/context.js';
import { allProcedurePaths, appRouter, type AppRouter } from './trpc/router.js';

const TRPC_PREFIX = '/trpc';
const REST_BASE_PATH = '/api';

export interface AppDeps {
  logger: FastifyBaseLogger;
  database: DatabasePluginOptions;
  /** Base URL of the reference model server (started by main.ts when MODEL_SERVER_URL is not set). */
  modelServerUrl: string;
}

const CORS_PREFLIGHT_CACHE_SECONDS = 600;

/** The Redis client of the shared counters; imported only when REDIS_URL asks for it, as most servers do not. */
async function connectRedis(url: string): Promise<Redis> {
  const { Redis: RedisClient } = await import('ioredis');
  return new RedisClient(url, { maxRetriesPerRequest: 2, connectTimeout: 5_000 });
}

/** The whole HTTP application, ready to `listen()`; nothing here touches process signals or ports. */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const startedAt = new Date();
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: generateRequestId,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { maxParamLength: 5_000 },
    // closeConnectionsWhenStopping answers them instead, in the API's own error shape.
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  });

  registerErrorResponses(app);
  // A server URL relative to the document, so "Try it out" calls the origin the docs were opened at.
  const restApi = describeRestApi(appRouter, {
    baseUrl: `${new URL(config.publicUrl).pathname.replace(/\/+$/, '')}${REST_BASE_PATH}`,
  });
  const metrics = createAppMetrics(app, {
    trpcPrefix: TRPC_PREFIX,
    procedurePaths: allProcedurePaths(),
    restBasePath: REST_BASE_PATH,
    restOperations: restApi.operations,
  });
  parseJsonBodies(app, config.jsonBodies);
  app.addHook('onRequest', refuseUndecodableQuery);
  app.addHook('preHandler', requestBaseUrlHook(config.publicUrl));
  closeConnectionsWhenStopping(app);
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  securityHeaders(app, { crossOriginResourcePolicy: { policy: 'same-site' } });
  await app.register(cors, {
    origin: config.corsOrigins === true ? true : [...config.corsOrigins],
    credentials: true,
    // Every method the API uses; the default (GET, HEAD, POST) blocks PATCH and DELETE from other origins.
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    // Headers a client on another origin needs to read: ids for support, limits, caching and byte ranges.
    exposedHeaders: [
      'x-request-id',
      'retry-after',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'etag',
      'content-range',
      'accept-ranges',
      'content-disposition',
      'content-length',
    ],
    // Browsers may reuse a preflight answer this long (Chromium caps it at 2 hours).
    maxAge: CORS_PREFLIGHT_CACHE_SECONDS,
  });
  const redis = config.redisUrl ? await connectRedis(config.redisUrl) : undefined;
  if (redis) {
    app.addHook('onClose', async () => {
      await redis.quit();
    });
  }
  // One verifier for the limiter's key and the procedures, so a token verified once is remembered for both.
  const accessTokens = createAccessTokens(config.jwtSecret, config.auth.accessTokenTtlSeconds);
  // The limiter is registered before the services exist; requests arrive only once they do.
  let apiKeyOwner: AppServices['apiKeys']['ownerOf'] = async () => undefined;
  await app.register(rateLimit, {
    global: true,
    keyGenerator: globalRateLimitKey(accessTokens, (key) => apiKeyOwner(key)),
    ...(redis ? { redis, nameSpace: 'gen3d:rate:global:' } : {}),
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    errorResponseBuilder: (_request, context) =>
      new RateLimited(Math.ceil(context.ttl / 1000), `Too many requests; retry in ${context.after}`),
  });
  await app.register(databasePlugin, deps.database);

  const { services, workers, meshes, storage, signer } = buildServices(
    app,
    config,
    startedAt,
    { redis, accessTokens, onJobRunEnded: metrics.onJobRunEnded },
    deps.modelServerUrl,
  );
  apiKeyOwner = services.apiKeys.ownerOf;
  metrics.watch({ workers, meshes, jobs: jobModel(app.database.connection) }, app.log);
  const createContext = createContextFactory(services);
  app.addHook('onReady', async () => workers.start());
  // Workers stop before the database closes: running jobs get part of the shutdown time, then go back to the queue.
  app.addHook('preClose', async () => workers.stop(Math.floor(config.shutdownTimeoutMs / 2)));

  await app.register(async (trpc) => {
    limitTrpcBatches(trpc, TRPC_PREFIX, config.trpcMaxBatchSize);
    trpc.addHook('preHandler', trpcInputShapeHook(config.jsonBodies));
    sendTrpcAnswers(trpc);
    await trpc.register(fastifyTRPCPlugin, {
      prefix: TRPC_PREFIX,
      trpcOptions: {
        router: appRouter,
        createContext,
        // Bodies tRPC reads itself (multipart form data) are held to the same limit as JSON ones.
        maxBodySize: config.bodyLimitBytes,
        maxBatchSize: config.trpcMaxBatchSize,
        onError: ({ error, path, ctx, req }) => {
          metrics.trpcCalls.recordFailure(req, path, error);
          if (error.code === 'INTERNAL_SERVER_ERROR')
            (ctx?.log ?? app.log).error({ err: error.cause ?? error, path }, 'procedure failed');
        },
      } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
    });
  });

  await app.register(restPlugin, {
    basePath: REST_BASE_PATH,
    router: appRouter,
    createContext,
    operations: restApi.operations,
  });
  await app.register(apiDocsRoutes, { document: restApi.document });
  await app.register(healthRoutes);
  await app.register(metricsRoute, { registry: metrics.registry, token: config.metricsToken });
  await app.register(demoPageRoutes, { directory: config.demoDir });
  await app.register(assetRoutes, { assets: services.assets, storage, signer });
  return app;
}
