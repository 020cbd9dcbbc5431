import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import mongoose, { type Connection } from 'mongoose';

import type { TDatabaseKind } from '@gen3d/shared';

const PING_TIMEOUT_MS = 2_000;

export interface Database {
  connection: Connection;
  kind: TDatabaseKind;
  /** True when the database answers a ping within two seconds. */
  isReachable(): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    database: Database;
  }
}

export interface DatabasePluginOptions {
  uri: string;
  kind: TDatabaseKind;
}

async function ping(connection: Connection): Promise<boolean> {
  const db = connection.db;
  if (!db || connection.readyState !== mongoose.ConnectionStates.connected) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      db.command({ ping: 1 }).then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The app's mongoose connection, opened at start and closed when the app closes. */
export const databasePlugin = fp(
  async (app: FastifyInstance, options: DatabasePluginOptions) => {
    const connection = mongoose.createConnection(options.uri, {
      serverSelectionTimeoutMS: 10_000,
      autoIndex: true,
    });
    await connection.asPromise();
    app.decorate('database', {
      connection,
      kind: options.kind,
      isReachable: () => ping(connection),
    } satisfies Database);
    app.addHook('onClose', async () => {
      await connection.close();
    });
  },
  { name: 'database', fastify: '5.x' },
);
