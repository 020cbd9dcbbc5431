import { performance } from 'node:perf_hooks';

import { anySignal } from 'any-signal';
import { Webhook } from 'standardwebhooks';
import { Agent, errors, request } from 'undici';

import { startDeadline } from '../../infra/deadline.js';
import { AddressRefusedError, type AddressPolicy } from '../../infra/public-addresses.js';

/** One attempt as the delivery log keeps it. */
export interface AttemptResult {
  at: Date;
  /** The receiver's HTTP status; null when no answer came. */
  status: number | null;
  latencyMs: number;
  /** What went wrong, in words that name no secret; null for a 2xx answer. */
  error: string | null;
}

export interface SignedDelivery {
  url: string;
  /** The webhook-id. */
  id: string;
  payload: string;
  /** The endpoint's whsec_ secret. */
  secret: string;
}

export interface WebhookSender {
  send(delivery: SignedDelivery, signal: AbortSignal): Promise<AttemptResult>;
  close(): Promise<void>;
}

/** Receivers' answers are not read beyond this; only their status matters. */
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_ERROR_CHARS = 300;

function describe(error: unknown, timeoutMs: number, url: URL): string {
  if (error instanceof AddressRefusedError)
    return `Refused: ${error.message} (not a public address; WEBHOOK_ALLOWED_HOSTS can allow the host)`;
  if (
    error instanceof errors.ConnectTimeoutError ||
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
  )
    return `No answer within ${timeoutMs} ms`;
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'The connection was closed before an answer';
  if (code === 'ECONNREFUSED') return `${url.host} refused the connection`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${url.hostname} could not be resolved`;
  return `The request failed${typeof code === 'string' ? ` (${code})` : ''}`;
}

/**
 * POSTs deliveries signed the Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature
 * over `id.timestamp.body`). Connections go only to addresses the policy allows, checked when each
 * connection is made; redirects are not followed; each attempt has `timeoutMs` in all.
 */
export function createWebhookSender(policy: AddressPolicy, timeoutMs: number): WebhookSender {
  const agent = new Agent({
    connect: { timeout: timeoutMs, lookup: policy.lookup },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return {
    async send(delivery, signal) {
      const at = new Date();
      const started = performance.now();
      const latency = () => Math.round(performance.now() - started);
      const url = new URL(delivery.url);
      const deadline = startDeadline(timeoutMs);
      // Not AbortSignal.any: on Node 20 it keeps every signal made from the long-lived `signal` for good.
      const stopped = anySignal([signal, deadline.signal]);
      try {
        policy.checkUrl(url);
        const signature = new Webhook(delivery.secret).sign(delivery.id, at, delivery.payload);
        const answer = await request(url, {
          method: 'POST',
          dispatcher: agent,
          signal: stopped,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'gen3d-webhooks',
            'webhook-id': delivery.id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': signature,
          },
          body: delivery.payload,
        });
        await answer.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => undefined);
        const status = answer.statusCode;
        if (status >= 200 && status < 300) return { at, status, latencyMs: latency(), error: null };
        const error =
          status >= 300 && status < 400
            ? `HTTP ${status}: redirects are not followed`
            : `HTTP ${status}: only a 2xx answer counts as delivered`;
        return { at, status, latencyMs: latency(), error };
      } catch (error) {
        return {
          at,
          status: null,
          latencyMs: latency(),
          error: describe(error, timeoutMs, url).slice(0, MAX_ERROR_CHARS),
        };
      } finally {
        stopped.clear();
        deadline.clear();
      }
    },
    close: () => agent.destroy(),
  };
}
