import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startReferenceModelServer } from '@gen3d/server';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type SignedIn, signInNewAdmin, signInNewUser } from './accounts.js';
import { startTestDatabase, type TestDatabase } from './database.js';
import { startTestServer, type TestServer } from './server.js';

/** How the next requests misbehave; each counter is spent as requests arrive. */
export interface Faults {
  /** Answer this many submits with 500. */
  failSubmits?: number;
  /** Answer status requests with malformed JSON. */
  garbageStatus?: boolean;
  /** Never answer status requests (the client's response deadline fires). */
  hangStatus?: boolean;
  /** Report the task as running at 50% forever. */
  neverFinish?: boolean;
  /** Serve GLB files cut in half. */
  truncateGlb?: boolean;
}

export interface FaultyModelServer {
  url: string;
  faults: Faults;
  /** Requests seen, as `METHOD path`. */
  requests: string[];
  /** Resolves when a request matching `predicate` arrives after the first `after` requests. */
  waitForRequest(predicate: (request: string) => boolean, after: number, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The reference model server behind a proxy that injects the failures a real model server shows:
 * 5xx answers, malformed JSON, silence, tasks that never finish and truncated files.
 */
export async function startFaultyModelServer(durationMs = 0): Promise<FaultyModelServer> {
  const reference = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs });
  const listeners = new Set<() => void>();
  const state: FaultyModelServer = {
    url: '',
    faults: {},
    requests: [],
    waitForRequest(predicate, after, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = state.requests.slice(after).find(predicate);
          if (!found) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching request within ${timeoutMs} ms; saw ${state.requests.slice(after).join(', ')}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    close: async () => undefined,
  };
  const hanging = new Set<ServerResponse>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? '/';
    state.requests.push(`${request.method} ${path}`);
    for (const listener of [...listeners]) listener();
    const { faults } = state;
    const isSubmit = request.method === 'POST' && path === '/v1/generations';
    const isStatus = request.method === 'GET' && /^\/v1\/generations\/[^/]+$/.test(path);
    if (isSubmit && (faults.failSubmits ?? 0) > 0) {
      faults.failSubmits = (faults.failSubmits ?? 0) - 1;
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"CUDA out of memory"}');
      return;
    }
    if (isStatus && faults.hangStatus) {
      hanging.add(response);
      return;
    }
    if (isStatus && faults.garbageStatus) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status": "runn');
      return;
    }
    if (isStatus && faults.neverFinish) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: path.split('/').pop(), status: 'running', progress: 50 }));
      return;
    }
    const body = request.method === 'POST' ? await bodyOf(request) : undefined;
    const upstream = await fetch(`${reference.url}${path}`, { method: request.method ?? 'GET', headers: body ? { 'content-type': 'application/json' } : {}, ...(body ? { body: new Uint8Array(body) } : {}) });
    let payload = Buffer.from(await upstream.arrayBuffer());
    if (faults.truncateGlb && path.endsWith('.glb')) payload = payload.subarray(0, Math.floor(payload.length / 2));
    response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream', 'content-length': payload.length }).end(payload);
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => response.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    for (const response of hanging) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await reference.close();
  };
  return state;
}

export interface FaultySuite {
  readonly database: TestDatabase;
  readonly faulty: FaultyModelServer;
  readonly server: TestServer;
  readonly admin: SignedIn;
  /** A signed-in user, `user@example.com`. */
  readonly user: SignedIn;
}

/**
 * A suite whose server calls a fault-injecting model server: started before the suite's tests, faults
 * cleared before each test, everything stopped after.
 */
export function useFaultySuite(env: Record<string, string>): FaultySuite {
  const state: Partial<{ -readonly [K in keyof FaultySuite]: FaultySuite[K] }> = {};
  beforeAll(async () => {
    state.database = await startTestDatabase();
    state.faulty = await startFaultyModelServer();
    state.server = await startTestServer(state.database, { env: { MODEL_SERVER_URL: state.faulty.url, AUTH_RATE_LIMIT_MAX: '1000', ...env } });
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
  };
}
