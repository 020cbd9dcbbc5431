import { afterAll, beforeAll, beforeEach } from 'vitest';

import { startReferenceModelServer } from '@gen3d/server';

import { signInNewAdmin, signInNewUser, type SignedIn } from './accounts.js';
import { sendJson, startContractServer, type ContractServer } from './contracts/contract-server.js';
import { startTestDatabase, type TestDatabase } from './database.js';
import { captureLog, failureDetail } from './logs.js';
import { startTestServer, type TestServer } from './server.js';

/** How the next requests misbehave; each counter is spent as requests arrive. */
export interface Faults {
  /** Answer this many submits with 500. */
  failSubmits?: number;
  /** The body of those 500 answers (default `{"error": "CUDA out of memory"}`). */
  failBody?: unknown;
  /** Answer status requests with malformed JSON. */
  garbageStatus?: boolean;
  /** Never answer status requests (the client's response deadline fires). */
  hangStatus?: boolean;
  /** Report the task as running at 50% forever. */
  neverFinish?: boolean;
  /** Serve GLB files cut in half. */
  truncateGlb?: boolean;
  /** Serve these bytes as every GLB file. */
  glb?: Uint8Array;
  /** Serve these bytes as every OBJ file. */
  obj?: Uint8Array;
  /** Called once a file's bytes have all been handed to the server that asked for them. */
  onFileServed?: (path: string) => void;
}

export interface FaultyModelServer extends ContractServer {
  faults: Faults;
}

/**
 * The reference model server behind a proxy that injects the failures a real model server shows:
 * 5xx answers, malformed JSON, silence, tasks that never finish and truncated files.
 */
export async function startFaultyModelServer(durationMs = 0): Promise<FaultyModelServer> {
  const reference = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs });
  const state = { faults: {} as Faults };
  const proxy = await startContractServer(async (request, response) => {
    const { faults } = state;
    const { method, path } = request;
    const isSubmit = method === 'POST' && path === '/v1/generations';
    const isStatus = method === 'GET' && /^\/v1\/generations\/[^/]+$/.test(path);
    if (isSubmit && (faults.failSubmits ?? 0) > 0) {
      faults.failSubmits = (faults.failSubmits ?? 0) - 1;
      return sendJson(response, 500, faults.failBody ?? { error: 'CUDA out of memory' });
    }
    if (isStatus && faults.hangStatus) return;
    if (isStatus && faults.garbageStatus) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status": "runn');
      return;
    }
    if (isStatus && faults.neverFinish)
      return sendJson(response, 200, { id: path.split('/').pop(), status: 'running', progress: 50 });
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const upstream = await fetch(`${reference.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      ...(body ? { body } : {}),
    });
    let payload = Buffer.from(await upstream.arrayBuffer());
    if (faults.truncateGlb && path.endsWith('.glb'))
      payload = payload.subarray(0, Math.floor(payload.length / 2));
    if (faults.glb && path.endsWith('.glb')) payload = Buffer.from(faults.glb);
    if (faults.obj && path.endsWith('.obj')) payload = Buffer.from(faults.obj);
    response
      .writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
        'content-length': payload.length,
      })
      .end(payload, () => {
        if (/\.(glb|obj|mtl|ply)$/.test(path)) faults.onFileServed?.(path);
      });
  });
  return Object.assign(state, proxy, {
    close: async () => {
      await proxy.close();
      await reference.close();
    },
  });
}

export interface FaultySuite {
  readonly database: TestDatabase;
  readonly faulty: FaultyModelServer;
  readonly server: TestServer;
  readonly admin: SignedIn;
  /** A signed-in user, `user@example.com`. */
  readonly user: SignedIn;
  /** What the worker logged about the job's last failed attempt (users see only a plain message). */
  failureDetail(jobId: string): Promise<string>;
}

/**
 * A suite whose server calls a fault-injecting model server: started before the suite's tests, faults
 * cleared before each test, everything stopped after.
 */
export function useFaultySuite(env: Record<string, string>): FaultySuite {
  const state: Partial<{ -readonly [K in keyof FaultySuite]: FaultySuite[K] }> = {};
  const log = captureLog('warn');
  beforeAll(async () => {
    state.database = await startTestDatabase();
    state.faulty = await startFaultyModelServer();
    state.server = await startTestServer(state.database, {
      env: { MODEL_SERVER_URL: state.faulty.url, AUTH_RATE_LIMIT_MAX: '1000', ...env },
      logger: log.logger,
    });
    state.admin = await signInNewAdmin(state.server);
    state.user = await signInNewUser(state.server, state.admin, 'user@example.com');
  });
  beforeEach(() => {
    if (state.faulty) state.faulty.faults = {};
  });
  afterAll(async () => {
    await state.server?.close();
    await state.faulty?.close();
    await state.database?.stop();
  });
  const get = <K extends keyof FaultySuite>(key: K): FaultySuite[K] => {
    const value = state[key];
    if (value === undefined) throw new Error(`the suite's ${key} is not started yet`);
    return value as FaultySuite[K];
  };
  return {
    get database() {
      return get('database');
    },
    get faulty() {
      return get('faulty');
    },
    get server() {
      return get('server');
    },
    get admin() {
      return get('admin');
    },
    get user() {
      return get('user');
    },
    failureDetail: (jobId) => failureDetail(log, jobId),
  };
}
