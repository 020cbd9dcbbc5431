import { buildApp, type Config, createLogger, loadConfig } from '@gen3d/server';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { databaseUri, startTestDatabase, type TestDatabase, uniqueDatabaseName } from './database.js';

export interface TestServer {
  url: string;
  /** The server's own database, for scripts run against it. */
  mongodbUri: string;
  app: FastifyInstance;
  config: Config;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string>;
  logger?: FastifyBaseLogger;
}

/** A real gen3d HTTP server on a free loopback port, with its own database on the test server. */
export async function startTestServer(database: TestDatabase, options: TestServerOptions = {}): Promise<TestServer> {
  const { config } = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-the-config-check',
    ...options.env,
  });
  const mongodbUri = databaseUri(database, uniqueDatabaseName('app'));
  const app = await buildApp(config, {
    logger: options.logger ?? createLogger(config),
    database: { uri: mongodbUri, kind: database.kind },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, mongodbUri, app, config, close: () => app.close() };
}

/** Reads a JSON response body, failing the test with the raw text when it is not JSON. */
export async function jsonOf(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`expected JSON, got ${response.status}: ${text.slice(0, 200)}`);
  }
}

/** Starts a database and a server for the suite (beforeAll) and stops both (afterAll). */
export function useTestServer(options: TestServerOptions = {}): { readonly server: TestServer; readonly database: TestDatabase } {
  const state: { server?: TestServer; database?: TestDatabase } = {};
  beforeAll(async () => {
    state.database = await startTestDatabase();
    state.server = await startTestServer(state.database, options);
  });
  afterAll(async () => {
    await state.server?.close();
    await state.database?.stop();
  });
  return {
    get server() {
      if (!state.server) throw new Error('the test server is not started yet');
      return state.server;
    },
    get database() {
      if (!state.database) throw new Error('the test database is not started yet');
      return state.database;
    },
  };
}
