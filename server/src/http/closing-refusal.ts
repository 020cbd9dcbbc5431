import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyInstance } from 'fastify';
import type { FormattedError } from '../trpc/error-formatter.js';
import { restError } from './error-responses.js';

const MESSAGE = 'This server is shutting down; send the request again (another instance, or this one once restarted, will answer)';

/**
 * Once the server is stopping it accepts no new connections, but a request can still arrive on a connection
 * that is already open. It gets 503 SERVICE_UNAVAILABLE in its API's error shape (tRPC or REST) and the
 * connection closes, so the client's retry opens a new one (to another instance behind a proxy).
 */
export function refuseRequestsWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return;
    const requestId = String(request.id);
    const trpc: FormattedError = { message: MESSAGE, code: TRPC_ERROR_CODES_BY_KEY.SERVICE_UNAVAILABLE, data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, requestId } };
    const body = request.url.startsWith('/trpc/') ? { error: trpc } : restError('SERVICE_UNAVAILABLE', MESSAGE, requestId);
    return reply.status(503).header('connection', 'close').send(body);
  });
}
