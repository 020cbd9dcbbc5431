export { buildApp, type AppDeps } from './app.js';
export { ConfigError, loadConfig, type Config, type LoadedConfig } from './config.js';
export { openDatabaseTarget, type DatabaseTarget } from './db/database.js';
export { createLogger } from './infra/logger.js';
export type { AppRouter } from './trpc/router.js';
export { buildAccountServices } from './build-services.js';
export { startReferenceModelServer, type RunningReferenceServer } from './model-servers/reference/start.js';
export { buildReferenceModelServer } from './model-servers/reference/http-server.js';
export { createAssetUrlSigner } from './storage/signed-urls.js';
