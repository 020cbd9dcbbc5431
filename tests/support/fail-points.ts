import { MongoClient, MongoServerError, type Document } from 'mongodb';

import { startTestDatabase, type TestDatabase } from './database.js';

/** The appName the app under test connects with, so a fail point can target only its connections. */
export const APP_NAME = 'gen3d-under-test';

/** The app's connection string with `appName` set to APP_NAME. */
export function withAppName(mongodbUri: string): string {
  const url = new URL(mongodbUri);
  url.searchParams.set('appName', APP_NAME);
  return url.toString();
}

/** The database name of a connection string. */
export function databaseNameOf(mongodbUri: string): string {
  return new URL(mongodbUri).pathname.slice(1);
}

export type FailPointMode = 'alwaysOn' | 'off' | { times: number } | { skip: number };

/** mongod's `failCommand` fail point on the test database, driven by a connection of its own. */
export interface FailCommand {
  /** Sets the fail point; answers how often it was entered before (for `waitForEntered`). */
  set(mode: FailPointMode, data: Document): Promise<number>;
  off(): Promise<void>;
  /** Resolves once the fail point was entered `timesEntered` times in all (an event, not a clock). */
  waitForEntered(timesEntered: number): Promise<void>;
  close(): Promise<void>;
}

const WAIT_LIMIT_MS = 120_000;

/**
 * Connects to the test database's fail point, or answers why it cannot: a MONGODB_URI server started
 * without `--setParameter enableTestCommands=1` refuses configureFailPoint (59), and the caller skips.
 */
export async function connectFailCommand(database: TestDatabase): Promise<FailCommand | string> {
  const client = await MongoClient.connect(database.uri);
  const admin = client.db('admin');
  try {
    await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
  } catch (error) {
    await client.close();
    if (error instanceof MongoServerError && error.code === 59)
      return `the database at MONGODB_URI refuses configureFailPoint: start mongod with --setParameter enableTestCommands=1 to run these tests`;
    throw error;
  }
  return {
    async set(mode, data) {
      const reply = await admin.command({ configureFailPoint: 'failCommand', mode, data });
      return Number(reply.count);
    },
    async off() {
      await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
    },
    async waitForEntered(timesEntered) {
      await admin.command({ waitForFailPoint: 'failCommand', timesEntered, maxTimeMS: WAIT_LIMIT_MS });
    },
    close: () => client.close(),
  };
}

/** A test database started with test commands, and its fail point when the database allows one. */
export interface FaultDatabase {
  database: TestDatabase;
  /** Undefined when the database refuses fail points; the suite's tests then skip with `skipReason`. */
  failCommand: FailCommand | undefined;
  skipReason: string;
  /** Turns the fail point off, closes the suite's servers with `closeServers`, then stops the database. */
  stop(closeServers: () => Promise<void>): Promise<void>;
}

/** Starts a fault-injection suite's database: `startTestDatabase({ testCommands: true })` and its fail point. */
export async function startFaultDatabase(): Promise<FaultDatabase> {
  const database = await startTestDatabase({ testCommands: true });
  const connected = await connectFailCommand(database);
  const failCommand = typeof connected === 'string' ? undefined : connected;
  return {
    database,
    failCommand,
    skipReason: typeof connected === 'string' ? connected : '',
    async stop(closeServers) {
      await failCommand?.off();
      await failCommand?.close();
      await closeServers();
      await database.stop();
    },
  };
}
