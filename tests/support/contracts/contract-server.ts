import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined without one, the raw text when it is not JSON. */
  body: unknown;
  /** Date.now() when it arrived. */
  at: number;
  /** Settles when the request's connection closes; true when the client went away before the answer was sent. */
  abandoned: Promise<boolean>;
}

export interface ContractServer {
  url: string;
  /** Every request, in arrival order. */
  requests: SeenRequest[];
  /** Resolves with the first request after the first `after` that matches. */
  waitForRequest(
    predicate: (request: SeenRequest) => boolean,
    after?: number,
    timeoutMs?: number,
  ): Promise<SeenRequest>;
  close(): Promise<void>;
}

export type ContractHandler = (request: SeenRequest, response: ServerResponse) => Promise<void> | void;

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    })
    .end(text);
}

export function sendFile(
  response: ServerResponse,
  bytes: Uint8Array,
  contentType = 'application/octet-stream',
): void {
  response.writeHead(200, { 'content-type': contentType, 'content-length': bytes.byteLength }).end(bytes);
}

/** Sends the first half of a file while declaring all of it, then cuts the connection. */
export function sendTruncated(response: ServerResponse, bytes: Uint8Array): void {
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength });
  response.write(bytes.subarray(0, Math.floor(bytes.byteLength / 2)), () => response.destroy());
}

/** What the server behind a test proxy answered, read whole. */
export interface UpstreamAnswer {
  status: number;
  contentType: string;
  payload: Buffer;
}

/** Sends `request` on to the server at `baseUrl` (same method, path and JSON body) and reads its answer. */
export async function forwardRequest(baseUrl: string, request: SeenRequest): Promise<UpstreamAnswer> {
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  const upstream = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: body ? { 'content-type': 'application/json' } : {},
    ...(body ? { body } : {}),
  });
  return {
    status: upstream.status,
    contentType: upstream.headers.get('content-type') ?? 'application/octet-stream',
    payload: Buffer.from(await upstream.arrayBuffer()),
  };
}

/** Answers with what the server behind the proxy answered. */
export function sendUpstreamAnswer(response: ServerResponse, answer: UpstreamAnswer): void {
  response
    .writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': answer.payload.length })
    .end(answer.payload);
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** An HTTP server that records what it is asked and answers through `handle`: the base of the contract doubles. */
export async function startContractServer(handle: ContractHandler): Promise<ContractServer> {
  const listeners = new Set<() => void>();
  const requests: SeenRequest[] = [];
  const server = createServer((incoming, response) => {
    const abandoned = new Promise<boolean>((resolve) =>
      response.on('close', () => resolve(!response.writableFinished)),
    );
    void readBody(incoming)
      .then(async (body) => {
        const seen: SeenRequest = {
          method: incoming.method ?? 'GET',
          path: incoming.url ?? '/',
          headers: incoming.headers,
          body,
          at: Date.now(),
          abandoned,
        };
        requests.push(seen);
        for (const listener of [...listeners]) listener();
        await handle(seen, response);
      })
      .catch(() => {
        if (!response.headersSent) response.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    waitForRequest(predicate, after = 0, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = requests.slice(after).find(predicate);
          if (!found) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `no matching request within ${timeoutMs} ms; saw ${requests
                .slice(after)
                .map((request) => `${request.method} ${request.path}`)
                .join(', ')}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
