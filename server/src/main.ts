import type { Logger } from 'pino';

import { buildApp } from './app.js';
import { ConfigError, loadConfig, type LoadedConfig } from './config.js';
import { openDatabaseTarget } from './db/database.js';
import { compactHeapAfterStart } from './infra/heap-compaction.js';
import { createLogger } from './infra/logger.js';
import { startReferenceModelServer } from './model-servers/reference/start.js';

function readConfig(): LoadedConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

function exitOnFatalErrors(logger: Logger): void {
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; exiting');
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection; exiting');
    process.exit(1);
  });
}

/** Listens, or exits with a sentence naming the setting to change when the port is taken. */
async function listenOrExit<T>(
  logger: Logger,
  what: string,
  setting: string,
  port: number,
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    logger.fatal(
      { port },
      `${what} cannot listen on port ${port}: another program (another gen3d?) uses it; set ${setting} to a free port, or 0 to pick one`,
    );
    process.exit(1);
  }
}

/** Process entry: config -> logger -> database -> app -> listen, and an orderly stop on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const { config, notices } = readConfig();
  const logger = createLogger(config);
  exitOnFatalErrors(logger);
  for (const notice of notices) logger.warn(notice);

  const database = await openDatabaseTarget(config, logger);
  const referenceServer = config.modelServers.reference.url
    ? undefined
    : await listenOrExit(
        logger,
        'the reference model server',
        'MODEL_SERVER_PORT',
        config.modelServers.reference.port,
        () =>
          startReferenceModelServer({
            host: '127.0.0.1',
            port: config.modelServers.reference.port,
            durationMs: config.modelServers.reference.durationMs,
          }),
      );
  if (referenceServer)
    logger.info(
      { url: referenceServer.url, durationMs: config.modelServers.reference.durationMs },
      'reference model server (procedural shapes) is listening',
    );
  const app = await buildApp(config, {
    logger,
    database,
    modelServerUrl: config.modelServers.reference.url ?? (referenceServer?.url as string),
  });
  const address = await listenOrExit(logger, 'gen3d', 'PORT', config.port, () =>
    app.listen({ host: config.host, port: config.port }),
  );
  logger.info({ address, docs: `${address}/api-docs` }, 'gen3d is listening');
  const cancelHeapCompaction = compactHeapAfterStart(logger);

  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    cancelHeapCompaction();
    // Fastify stops listening only after its preClose hooks (the workers' stop); new connections end here.
    app.server.close();
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    await app.close();
    await referenceServer?.close();
    await database.stop();
    logger.info('stopped cleanly');
    process.exit(0);
  };
  process.once('SIGINT', (signal) => void stop(signal));
  process.once('SIGTERM', (signal) => void stop(signal));
}

await main();
