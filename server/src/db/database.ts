import { join } from 'node:path';

import type { Logger } from 'pino';

import type { TDatabaseKind } from '@gen3d/shared';

import type { Config } from '../config.js';

/** Where the app's data lives: MONGODB_URI, or the embedded server this process started. */
export interface DatabaseTarget {
  uri: string;
  kind: TDatabaseKind;
  /** Stops the embedded server; nothing for an external database. */
  stop(): Promise<void>;
}

/** Uses MONGODB_URI when set; otherwise starts the embedded server with its data in DATA_DIR/db. */
export async function openDatabaseTarget(config: Config, logger: Logger): Promise<DatabaseTarget> {
  if (config.mongodbUri) return { uri: config.mongodbUri, kind: 'external', stop: async () => {} };
  // Imported here: with an external database the embedded server's modules would only take start-up time and memory.
  const { EmbeddedMongoServer } = await import('@gen3d/embedded-mongo');
  const embedded = await EmbeddedMongoServer.start({
    dataDir: join(config.dataDir, 'db'),
    port: config.embeddedDbPort,
    onError: (error) => logger.error({ err: error }, 'embedded database error'),
    onWarning: (message) => logger.warn(message),
  });
  const uri = `${embedded.uri}gen3d`;
  logger.info({ uri }, 'embedded database started');
  return { uri, kind: 'embedded', stop: () => embedded.stop() };
}
