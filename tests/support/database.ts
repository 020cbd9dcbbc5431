import { randomUUID } from 'node:crypto';
import { EmbeddedMongoServer } from '@gen3d/server/embedded-db';

export interface TestDatabase {
  /** Server URI without a database name; append one per suite. */
  uri: string;
  kind: 'embedded' | 'external';
  stop(): Promise<void>;
}

/**
 * The database the suite runs against: MONGODB_URI when set (a real MongoDB), otherwise a fresh
 * in-memory embedded server.
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const external = process.env.MONGODB_URI;
  if (external) return { uri: external.endsWith('/') ? external : `${external}/`, kind: 'external', stop: async () => {} };
  const server = await EmbeddedMongoServer.start({});
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
