import { setTimeout as sleep } from 'node:timers/promises';

import { Agent, errors, request, type Dispatcher } from 'undici';
import type { z } from 'zod';

import { AddressRefusedError, type AddressPolicy } from '../infra/public-addresses.js';
import { ModelServerError } from './model-server.js';

export interface HttpClientOptions {
  connectTimeoutMs: number;
  /** Longest wait for response headers, and between body chunks. */
  responseTimeoutMs: number;
  /** Downloads (and JSON answers carrying files) larger than this fail. */
  maxBytes: number;
  /** The longest Retry-After a 429 answer may ask for before the call fails instead of waiting. */
  maxRetryAfterMs?: number;
  /** Which addresses calls may connect to; any when absent (model servers are the operator's choice). */
  addressPolicy?: AddressPolicy;
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  signal: AbortSignal;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Longest wait for the answer's headers, when it differs from the client's (a synchronous generation). */
  responseTimeoutMs?: number;
}

export interface ModelHttpClient {
  /** A JSON call whose answer must match `schema`. */
  json<T>(call: HttpCall, schema: z.ZodType<T>): Promise<T>;
  /** A call whose answer body does not matter. */
  send(call: HttpCall): Promise<void>;
  /** The bytes of a file. */
  download(url: string, signal: AbortSignal, headers?: Record<string, string>): Promise<Uint8Array>;
  close(): Promise<void>;
}

const RATE_LIMIT_TRIES = 5;

function describeFailure(error: unknown, url: string, signal: AbortSignal): Error {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted');
  if (error instanceof ModelServerError || error instanceof AddressRefusedError) return error;
  if (error instanceof errors.ConnectTimeoutError)
    return new ModelServerError(
      'MODEL_SERVER_UNREACHABLE',
      `The model server at ${new URL(url).host} did not accept a connection in time`,
      true,
    );
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError)
    return new ModelServerError('MODEL_SERVER_TIMEOUT', 'The model server stopped answering', true);
  const code = (error as { code?: string }).code;
  if (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ENOTFOUND' ||
    code === 'EHOSTUNREACH' ||
    code === 'UND_ERR_SOCKET'
  ) {
    return new ModelServerError(
      'MODEL_SERVER_UNREACHABLE',
      `The model server at ${new URL(url).host} is unreachable (${code})`,
      true,
    );
  }
  return new ModelServerError(
    'MODEL_SERVER_ERROR',
    `The model server call failed: ${error instanceof Error ? error.message : String(error)}`,
    true,
  );
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The body of an answer, refusing more than `maxBytes` (a declared length is checked before reading). */
async function readLimited(
  response: Dispatcher.ResponseData,
  maxBytes: number,
  url: string,
  signal: AbortSignal,
): Promise<Buffer> {
  const declared = Number(response.headers['content-length'] ?? NaN);
  if (declared > maxBytes) {
    response.body.destroy();
    throw new ModelServerError(
      'OUTPUT_INVALID',
      `The model server's answer is ${declared} bytes, over the limit of ${maxBytes}`,
      false,
    );
  }
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of response.body) {
      received += (chunk as Buffer).length;
      if (received > maxBytes)
        throw new ModelServerError(
          'OUTPUT_INVALID',
          `The model server's answer is over the limit of ${maxBytes} bytes`,
          false,
        );
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    response.body.destroy();
    const interrupted =
      !signal.aborted && !(error instanceof ModelServerError) && !(error instanceof errors.BodyTimeoutError);
    if (interrupted)
      throw new ModelServerError(
        'OUTPUT_INVALID',
        `The model server's answer was cut short (the connection closed after ${received}${Number.isFinite(declared) ? ` of ${declared}` : ''} bytes)`,
        true,
      );
    throw describeFailure(error, url, signal);
  }
  if (Number.isFinite(declared) && received !== declared)
    throw new ModelServerError(
      'OUTPUT_INVALID',
      `The model server's answer was cut short (${received} of ${declared} bytes)`,
      true,
    );
  return Buffer.concat(chunks);
}

/** HTTP for model-server adapters (undici), with deadlines, 429 back-off and failures turned into ModelServerErrors. */
export function createModelHttpClient(options: HttpClientOptions): ModelHttpClient {
  const policy = options.addressPolicy;
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs, ...(policy ? { lookup: policy.lookup } : {}) },
    headersTimeout: options.responseTimeoutMs,
    bodyTimeout: options.responseTimeoutMs,
  });
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  // A JSON answer may carry a whole model as base64.
  const maxJsonBytes = Math.ceil(options.maxBytes * 1.4) + 65_536;

  async function callOnce(call: HttpCall): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { ...call.headers };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    policy?.checkUrl(new URL(call.url));
    return request(call.url, {
      method: call.method,
      dispatcher: agent,
      signal: call.signal,
      headers,
      ...(call.responseTimeoutMs === undefined ? {} : { headersTimeout: call.responseTimeoutMs }),
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    });
  }

  async function call(call: HttpCall): Promise<Dispatcher.ResponseData> {
    try {
      for (let attempt = 1; ; attempt += 1) {
        const response = await callOnce(call);
        // Redirects are never followed: the next hop would escape the address policy and the deadlines.
        if (response.statusCode < 300) return response;
        const body = (await response.body.text().catch(() => '')).slice(0, 300);
        const http = { status: response.statusCode, body };
        if (response.statusCode === 429) {
          const waitMs = retryAfterMs(response.headers['retry-after']) ?? 1000;
          if (attempt < RATE_LIMIT_TRIES && waitMs <= maxRetryAfterMs) {
            await sleep(waitMs, undefined, { signal: call.signal });
            continue;
          }
          throw new ModelServerError(
            'MODEL_SERVER_RATE_LIMITED',
            `The model server is rate limiting requests (429; asked to wait ${Math.ceil(waitMs / 1000)} s)`,
            true,
            http,
          );
        }
        const server = response.statusCode >= 500;
        throw new ModelServerError(
          server ? 'MODEL_SERVER_ERROR' : 'MODEL_SERVER_REJECTED',
          response.statusCode < 400
            ? `The model server answered ${response.statusCode} (redirects are not followed)`
            : `The model server answered ${response.statusCode}${body ? `: ${body}` : ''}`,
          server || [404, 408].includes(response.statusCode),
          http,
        );
      }
    } catch (error) {
      throw describeFailure(error, call.url, call.signal);
    }
  }

  return {
    async json(request, schema) {
      const response = await call(request);
      const text = (await readLimited(response, maxJsonBytes, request.url, request.signal)).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ModelServerError(
          'MODEL_SERVER_BAD_RESPONSE',
          'The model server answered with malformed JSON',
          true,
        );
      }
      const checked = schema.safeParse(parsed);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new ModelServerError(
          'MODEL_SERVER_BAD_RESPONSE',
          `The model server's answer has an unexpected shape${issue ? ` at "${issue.path.join('.')}": ${issue.message}` : ''}`,
          true,
        );
      }
      return checked.data;
    },

    async send(request) {
      const response = await call(request);
      await response.body.dump();
    },

    async download(url, signal, headers) {
      const response = await call({ method: 'GET', url, signal, ...(headers ? { headers } : {}) });
      return new Uint8Array(await readLimited(response, options.maxBytes, url, signal));
    },

    // By the time the client closes, the workers have stopped: nothing in flight is worth waiting for.
    close: () => agent.destroy(),
  };
}
