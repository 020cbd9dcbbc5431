import { Agent, errors, request } from 'undici';
import type { z } from 'zod';
import { ModelServerError } from './model-server.js';

export interface HttpClientOptions {
  connectTimeoutMs: number;
  /** Longest wait for response headers, and between body chunks. */
  responseTimeoutMs: number;
  /** Downloads larger than this fail. */
  maxBytes: number;
}

export interface ModelHttpClient {
  /** A JSON call whose answer must match `schema`. */
  json<T>(method: 'GET' | 'POST' | 'DELETE', url: string, schema: z.ZodType<T>, signal: AbortSignal, body?: unknown): Promise<T>;
  /** The bytes of a file. */
  download(url: string, signal: AbortSignal): Promise<Uint8Array>;
  close(): Promise<void>;
}

function describeFailure(error: unknown, url: string, signal: AbortSignal): Error {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted');
  if (error instanceof ModelServerError) return error;
  if (error instanceof errors.ConnectTimeoutError) return new ModelServerError('MODEL_SERVER_UNREACHABLE', `The model server at ${new URL(url).host} did not accept a connection in time`, true);
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) return new ModelServerError('MODEL_SERVER_TIMEOUT', 'The model server stopped answering', true);
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'UND_ERR_SOCKET') {
    return new ModelServerError('MODEL_SERVER_UNREACHABLE', `The model server at ${new URL(url).host} is unreachable (${code})`, true);
  }
  return new ModelServerError('MODEL_SERVER_ERROR', `The model server call failed: ${error instanceof Error ? error.message : String(error)}`, true);
}

/** HTTP for model-server adapters (undici), with deadlines and failures turned into ModelServerErrors. */
export function createModelHttpClient(options: HttpClientOptions): ModelHttpClient {
  const agent = new Agent({ connect: { timeout: options.connectTimeoutMs }, headersTimeout: options.responseTimeoutMs, bodyTimeout: options.responseTimeoutMs });

  async function call(method: 'GET' | 'POST' | 'DELETE', url: string, signal: AbortSignal, body?: unknown) {
    try {
      const response = await request(url, {
        method,
        dispatcher: agent,
        signal,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (response.statusCode >= 400) {
        const text = (await response.body.text().catch(() => '')).slice(0, 300);
        const server = response.statusCode >= 500;
        throw new ModelServerError(server ? 'MODEL_SERVER_ERROR' : 'MODEL_SERVER_REJECTED', `The model server answered ${response.statusCode}${text ? `: ${text}` : ''}`, server || [404, 408, 429].includes(response.statusCode));
      }
      return response;
    } catch (error) {
      throw describeFailure(error, url, signal);
    }
  }

  return {
    async json(method, url, schema, signal, body) {
      const response = await call(method, url, signal, body);
      let parsed: unknown;
      try {
        parsed = await response.body.json();
      } catch (error) {
        if (signal.aborted) throw describeFailure(error, url, signal);
        throw new ModelServerError('MODEL_SERVER_BAD_RESPONSE', 'The model server answered with malformed JSON', true);
      }
      const checked = schema.safeParse(parsed);
      if (!checked.success) throw new ModelServerError('MODEL_SERVER_BAD_RESPONSE', `The model server's answer has an unexpected shape: ${checked.error.issues[0]?.message ?? 'invalid'}`, true);
      return checked.data;
    },

    async download(url, signal) {
      const response = await call('GET', url, signal);
      const declared = Number(response.headers['content-length'] ?? NaN);
      if (declared > options.maxBytes) {
        response.body.destroy();
        throw new ModelServerError('OUTPUT_INVALID', `The model server's file is ${declared} bytes, over the limit of ${options.maxBytes}`, false);
      }
      const chunks: Buffer[] = [];
      let received = 0;
      try {
        for await (const chunk of response.body) {
          received += (chunk as Buffer).length;
          if (received > options.maxBytes) throw new ModelServerError('OUTPUT_INVALID', `The model server's file is over the limit of ${options.maxBytes} bytes`, false);
          chunks.push(chunk as Buffer);
        }
      } catch (error) {
        response.body.destroy();
        throw describeFailure(error, url, signal);
      }
      if (Number.isFinite(declared) && received !== declared) throw new ModelServerError('OUTPUT_INVALID', `The model server's file was cut short (${received} of ${declared} bytes)`, true);
      return new Uint8Array(Buffer.concat(chunks));
    },

    close: () => agent.close(),
  };
}
