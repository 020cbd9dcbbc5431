import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';

import {
  buildApp,
  createLogger,
  loadConfig,
  startReferenceModelServer,
  type Config,
  type RunningReferenceServer,
} from '@gen3d/server';

import { databaseUri, startTestDatabase, uniqueDatabaseName, type TestDatabase } from './database.js';
import { freePort } from './redis.js';
import { startTestSmtpServer, type TestSmtpServer } from './smtp.js';

export interface TestServer {
  url: string;
  /** The model server the app calls (the reference server started for it, unless MODEL_SERVER_URL was given). */
  modelServerUrl: string;
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
  /** Share another server's database (several instances on one database). */
  mongodbUri?: string;
  /** How long the reference model server takes per generation (default 0: at once). */
  modelDurationMs?: number;
}

/** A real gen3d HTTP server on a free loopback port, with its own database on the test server. */
export async function startTestServer(
  database: TestDatabase,
  options: TestServerOptions = {},
): Promise<TestServer> {
  // Asset URLs are absolute (PUBLIC_URL), so the port is chosen before the configuration is read.
  const port = await freePort();
  const { config } = loadConfig({
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-the-config-check',
    ASSETS_DIR: mkdtempSync(join(tmpdir(), 'gen3d-test-assets-')),
    ...options.env,
  });
  const mongodbUri = options.mongodbUri ?? databaseUri(database, uniqueDatabaseName('app'));
  const reference = config.modelServers.reference.url
    ? undefined
    : await startReferenceModelServer({
        host: '127.0.0.1',
        port: 0,
        durationMs: options.modelDurationMs ?? 0,
      });
  const modelServerUrl = config.modelServers.reference.url ?? (reference as RunningReferenceServer).url;
  const app = await buildApp(config, {
    logger: options.logger ?? createLogger(config),
    database: { uri: mongodbUri, kind: database.kind },
    modelServerUrl,
  });
  await app.listen({ host: '127.0.0.1', port });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    modelServerUrl,
    mongodbUri,
    app,
    config,
    close: async () => {
      await app.close();
      await reference?.close();
    },
  };
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

export interface SuiteServerOptions extends TestServerOptions {
  /** Also start a test SMTP server and send the server's mail to it (`suite.smtp` reads it). */
  mail?: boolean;
  /** Start the database with test commands (fail points, `tests/support/fail-points.ts`). */
  testCommands?: boolean;
}

export interface SuiteServer {
  readonly server: TestServer;
  readonly database: TestDatabase;
  /** Only with `mail: true`. */
  readonly smtp: TestSmtpServer;
}

/** Starts a database (and an SMTP server when asked) and a server for the suite (beforeAll) and stops them (afterAll). */
export function useTestServer(options: SuiteServerOptions = {}): SuiteServer {
  const state: { server?: TestServer; database?: TestDatabase; smtp?: TestSmtpServer } = {};
  beforeAll(async () => {
    state.database = await startTestDatabase({ testCommands: options.testCommands ?? false });
    if (options.mail) state.smtp = await startTestSmtpServer();
    const env = { ...options.env, ...(state.smtp ? { SMTP_URL: state.smtp.url } : {}) };
    state.server = await startTestServer(state.database, { ...options, env });
  });
  afterAll(async () => {
    await state.server?.close();
    await state.smtp?.close();
    await state.database?.stop();
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined)
      throw new Error(`the suite's ${name} is not started${name === 'smtp' ? ' (pass mail: true)' : ' yet'}`);
    return value;
  };
  return {
    get server() {
      return started(state.server, 'server');
    },
    get database() {
      return started(state.database, 'database');
    },
    get smtp() {
      return started(state.smtp, 'smtp');
    },
  };
}

/** Limits high enough that tests driving many jobs from a few accounts measure something else. */
export const GENEROUS_LIMITS = {
  AUTH_RATE_LIMIT_MAX: '1000',
  GENERATION_RATE_LIMIT_MAX: '10000',
  RATE_LIMIT_MAX: '100000',
  JOBS_DAILY_QUOTA: '10000',
  JOBS_MAX_RUNNING_PER_USER: '8',
};
