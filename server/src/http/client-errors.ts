import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import type { FastifyReply, FastifyRequest } from 'fastify';

import type { TErrorCode } from '@gen3d/shared';

import { restError, sendRestError } from './error-responses.js';

interface ConnectionError extends Error {
  code?: string;
}

const CLIENT_ERRORS: Record<string, { code: TErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    code: 'HEADERS_TOO_LARGE',
    message: 'The request line and headers are too large (16 kB at most)',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'TIMEOUT', message: 'The request was not received in time' },
};

/**
 * Requests Node's HTTP parser refuses never reach Fastify's routes (an over-long URL or header block, a
 * malformed request line): they are answered here in the one error body, then the connection closes.
 */
export function answerClientError(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, message } = CLIENT_ERRORS[error.code ?? ''] ?? {
    code: 'BAD_REQUEST' as const,
    message: 'The request is not valid HTTP',
  };
  const body = restError(code, message, randomUUID());
  if (socket.writable) {
    const status = body.statusCode;
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}

/** Errors Fastify raises before routing (a URL that is not valid percent-encoding), in the one error body. */
export function answerFrameworkError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  void sendRestError(
    reply,
    restError(
      'BAD_REQUEST',
      `The URL is not valid: ${error.message.replace(/^'.*' is not/, 'a component is not')}`,
      String(request.id),
    ),
  );
}
