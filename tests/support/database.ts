import { randomUUID } from 'node:crypto';

import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';

import { EmbeddedMongoServer } from '@gen3d/embedded-mongo';

export interface TestDatabase {
  /** Server URI without a database name; append one per suite. */
  uri: string;
  kind: 'embedded' | 'external';
  stop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /**
   * Start the embedded server with mongod's test commands (`configureFailPoint`). A MONGODB_URI server
   * needs `--setParameter enableTestCommands=1` for them; `tests/support/fail-points.ts` says so and skips.
   */
  testCommands?: boolean;
}

/**
 * The database the suite runs against: MONGODB_URI when set (a real MongoDB), otherwise a fresh
 * in-memory embedded server.
 */
export async function startTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const external = process.env.MONGODB_URI;
  if (external)
    return {
      uri: external.endsWith('/') ? external : `${external}/`,
      kind: 'external',
      stop: async () => {},
    };
  const server = await EmbeddedMongoServer.start({ enableTestCommands: options.testCommands ?? false });
  return { uri: server.uri, kind: 'embedded', stop: () => server.stop() };
}

/** A database name no other suite uses, so suites can share one server. */
export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

/** A full connection string for one database on the test server. */
export function databaseUri(database: TestDatabase, name: string): string {
  const url = new URL(database.uri);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A driver connection to a fresh database for the suite, opened in beforeAll and closed in afterAll. */
export function useDriverDatabase(prefix: string): { readonly client: MongoClient; readonly db: Db } {
  const state: { database?: TestDatabase; client?: MongoClient } = {};
  beforeAll(async () => {
    state.database = await startTestDatabase();
    state.client = await MongoClient.connect(databaseUri(state.database, uniqueDatabaseName(prefix)));
  });
  afterAll(async () => {
    await state.client?.close();
    await state.database?.stop();
  });
  return {
    get client() {
      if (!state.client) throw new Error('the test database is not connected yet');
      return state.client;
    },
    get db() {
      return this.client.db();
    },
  };
}
