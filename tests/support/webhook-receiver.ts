import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';

import { Webhook } from 'standardwebhooks';

import type { TJob, TWebhookEventType } from '@gen3d/shared';

/** How the receiver answers one delivery attempt. */
export type Behaviour = 'ok' | 'error500' | 'hang' | 'reset';

export interface Arrival {
  path: string;
  /** The webhook-id header. */
  id: string;
  /** Whether the standardwebhooks verifier accepted the signature with the path's secret. */
  verified: boolean;
  verifyError: string | undefined;
  event: { type: TWebhookEventType; timestamp: string; data: TJob };
  behaviour: Behaviour;
}

export interface WebhookReceiver {
  /** Base URL, http://127.0.0.1:port. */
  url: string;
  arrivals: Arrival[];
  /** The secret deliveries to `path` are verified with. */
  setSecret(path: string, secret: string): void;
  /** Answers the next attempts to `path` this way, in order; then `ok`, or what `always` set. */
  plan(path: string, behaviours: Behaviour[]): void;
  always(path: string, behaviour: Behaviour): void;
  /** Resolves with the arrivals so far once `done` holds for them (checked at each arrival). */
  waitFor(done: (arrivals: Arrival[]) => boolean, what: string, timeoutMs?: number): Promise<Arrival[]>;
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A real webhook receiver on loopback: every delivery is verified with the maintained `standardwebhooks`
 * verifier (not code of this project), recorded, and answered as planned (fine, 500, never, or a reset).
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const arrivals: Arrival[] = [];
  const secrets = new Map<string, string>();
  const plans = new Map<string, Behaviour[]>();
  const defaults = new Map<string, Behaviour>();
  const wakers = new Set<() => void>();
  const sockets = new Set<Socket>();

  async function receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url ?? '/';
    const body = await bodyOf(request);
    const headers = Object.fromEntries(
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [
        name,
        String(request.headers[name] ?? ''),
      ]),
    );
    let verified = false;
    let verifyError: string | undefined;
    try {
      new Webhook(secrets.get(path) ?? 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').verify(body, headers);
      verified = true;
    } catch (error) {
      verifyError = error instanceof Error ? error.message : String(error);
    }
    const behaviour = plans.get(path)?.shift() ?? defaults.get(path) ?? 'ok';
    arrivals.push({
      path,
      id: headers['webhook-id'] ?? '',
      verified,
      verifyError,
      event: JSON.parse(body) as Arrival['event'],
      behaviour,
    });
    for (const wake of [...wakers]) wake();
    if (behaviour === 'ok') response.writeHead(204).end();
    else if (behaviour === 'error500') response.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    else if (behaviour === 'reset') request.socket.destroy();
    // 'hang': no answer; the sender's deadline ends the attempt.
  }

  const server = createServer((request, response) => {
    receive(request, response).catch(() => response.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    setSecret: (path, secret) => secrets.set(path, secret),
    plan: (path, behaviours) => plans.set(path, [...behaviours]),
    always: (path, behaviour) => defaults.set(path, behaviour),
    waitFor(done, what, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(arrivals)) return;
          clearTimeout(timer);
          wakers.delete(check);
          resolve([...arrivals]);
        };
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(
            new Error(
              `waited ${timeoutMs} ms for ${what}; arrivals: ${JSON.stringify(arrivals.map((arrival) => [arrival.path, arrival.event.type, arrival.behaviour]))}`,
            ),
          );
        }, timeoutMs);
        wakers.add(check);
        check();
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * What `read` answers once `recorded` holds for it (`timeoutMs` at most; the caller's assertions then show
 * what was there). A receiver sees a request before the sending server has read its answer and recorded
 * the attempt, so a test that has just seen an arrival waits for that record, reading it again.
 */
export async function onceRecorded<T>(
  read: () => Promise<T>,
  recorded: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (recorded(value) || Date.now() > deadline) return value;
    await pause(25);
  }
}

/** True when every delivery listed was delivered. */
export const allSucceeded = (deliveries: ReadonlyArray<{ status: string }>): boolean =>
  deliveries.length > 0 && deliveries.every((delivery) => delivery.status === 'succeeded');
