import { createHash } from 'node:crypto';

import { afterAll, beforeAll, expect } from 'vitest';

import type { TAsset, TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../accounts.js';
import { startTestDatabase, type TestDatabase } from '../database.js';
import { clientFor, followJob } from '../generation.js';
import { captureLog, failureDetail, type CapturedLog } from '../logs.js';
import { callRest } from '../rest.js';
import { startTestServer, type TestServer } from '../server.js';
import type { ContractServer } from './contract-server.js';

/** Quick retries and polls, so failure paths finish within a test. */
export const FAST_JOBS = {
  AUTH_RATE_LIMIT_MAX: '1000',
  GENERATION_RATE_LIMIT_MAX: '1000',
  MODEL_SERVER_POLL_INTERVAL_MS: '50',
  MODEL_SERVER_RESPONSE_TIMEOUT_MS: '2000',
  JOB_MAX_ATTEMPTS: '2',
  JOB_RETRY_BASE_MS: '20',
  JOB_RETRY_MAX_MS: '100',
  JOB_POLL_INTERVAL_MS: '100',
};

export interface AdapterSuite<Double> {
  readonly double: Double;
  readonly server: TestServer;
  readonly user: SignedIn;
  /** Creates a job over REST and follows it over the live-update subscription to its end. */
  run(prompt: string, params?: Record<string, unknown>): Promise<{ job: TJob; updates: TJob[] }>;
  /** The job's stored files, downloaded through their signed URLs, by format. */
  downloads(job: TJob): Promise<Map<string, Buffer>>;
  /** The job's asset records (with their mesh figures). */
  assets(jobId: string): Promise<TAsset[]>;
  /**
   * What the log says about the job's latest failed attempt, in full: users read only a code and plain
   * words, the model server's own words go to the log.
   */
  failureDetail(jobId: string): Promise<string>;
}

/** A database, a contract double of a model server and a gen3d server using it, for one suite. */
export function useAdapterSuite<Double extends ContractServer>(
  startDouble: () => Promise<Double>,
  envFor: (double: Double) => Record<string, string>,
): AdapterSuite<Double> {
  const state: { database?: TestDatabase; double?: Double; server?: TestServer; user?: SignedIn } = {};
  const log: CapturedLog = captureLog('warn');
  beforeAll(async () => {
    state.database = await startTestDatabase();
    state.double = await startDouble();
    state.server = await startTestServer(state.database, {
      env: { ...FAST_JOBS, ...envFor(state.double) },
      logger: log.logger,
    });
    const admin = await signInNewAdmin(state.server);
    state.user = await signInNewUser(state.server, admin, 'maker@example.com');
  });
  afterAll(async () => {
    await state.server?.close();
    await state.double?.close();
    await state.database?.stop();
  });
  const get = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`the suite's ${name} is not started yet`);
    return value;
  };
  const suite: AdapterSuite<Double> = {
    get double() {
      return get(state.double, 'model server');
    },
    get server() {
      return get(state.server, 'server');
    },
    get user() {
      return get(state.user, 'user');
    },
    async run(prompt, params = {}) {
      const created = await callRest(suite.server.url, 'POST', '/jobs', { prompt, params }, suite.user.token);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const updates = await followJob(clientFor(suite.server, suite.user), String(created.body.id));
      return { job: updates.at(-1) as TJob, updates };
    },
    async downloads(job) {
      const files = new Map<string, Buffer>();
      for (const output of job.outputs) {
        const response = await fetch(output.url);
        expect(response.status).toBe(200);
        files.set(output.format, Buffer.from(await response.arrayBuffer()));
      }
      return files;
    },
    failureDetail: (jobId) => failureDetail(log, jobId),
    async assets(jobId) {
      return (await callRest(suite.server.url, 'GET', `/assets?jobId=${jobId}`, undefined, suite.user.token))
        .body as unknown as TAsset[];
    },
  };
  return suite;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
