import { basename } from 'node:path';

import mongoose, { type Connection } from 'mongoose';

import {
  buildAccountServices,
  createLogger,
  loadConfig,
  openDatabaseTarget,
  scriptActor,
  type Actor,
  type Config,
} from '@gen3d/server';

export type AccountServices = ReturnType<typeof buildAccountServices>;

/** Thrown for a wrong command line: the script prints the usage and exits 2. */
export class UsageError extends Error {}

/**
 * Runs `task` with the account services on the configured database (MONGODB_URI, or the embedded
 * database in DATA_DIR when the server is not running), then closes everything. Exit codes: 0 done,
 * 1 failed, 2 bad usage.
 */
export interface AdminTaskContext {
  config: Config;
  connection: Connection;
  /** Who the audit log names for this script's changes. */
  actor: Actor;
}

export async function runAdminTask(
  usage: string,
  task: (services: AccountServices, context: AdminTaskContext) => Promise<string>,
): Promise<void> {
  let exitCode = 0;
  try {
    const { config } = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
    const logger = createLogger(config);
    const database = await openDatabaseTarget(config, logger).catch((error: Error) => {
      throw new Error(`${error.message}. Stop the running server first, or set MONGODB_URI to its database.`);
    });
    const connection = await mongoose
      .createConnection(database.uri, { serverSelectionTimeoutMS: 10_000 })
      .asPromise();
    try {
      const services = buildAccountServices(connection, config, logger);
      await services.userRecords.init();
      console.log(
        await task(services, {
          config,
          connection,
          actor: scriptActor(basename(process.argv[1] ?? 'script', '.ts')),
        }),
      );
    } finally {
      await connection.close();
      await database.stop();
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${usage}`);
      exitCode = 2;
    } else {
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      exitCode = 1;
    }
  }
  process.exit(exitCode);
}
