import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyInstance } from 'fastify';

import { ErrorCatalogue } from '@gen3d/shared';

import type { FormattedError } from '../trpc/error-formatter.js';
import { restError } from './error-responses.js';

const MESSAGE =
  'This server is shutting down; send the request again (another instance, or this one once restarted, will answer)';

/**
 * Once the server is stopping it accepts no new connections, and the open ones close as soon as they
 * are idle: those idle at that moment at once, the others when their answer ends. A request that still
 * arrives on one gets 503 SERVICE_UNAVAILABLE in its API's error shape (tRPC or REST) and its connection
 * closes, so the client's retry opens a new one (to another instance behind a proxy).
 */
export function closeConnectionsWhenStopping(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) {
      // Stopping closes the connections idle at that moment; one whose answer (a progress stream, say) ends
      // later would otherwise stay open until the client leaves or the keep-alive timeout passes.
      reply.raw.once('finish', () => {
        if (closing) setImmediate(() => app.server.closeIdleConnections());
      });
      return;
    }
    const requestId = String(request.id);
    const { status, trpcCode } = ErrorCatalogue.SERVICE_UNAVAILABLE;
    const trpc: FormattedError = {
      message: MESSAGE,
      code: TRPC_ERROR_CODES_BY_KEY[trpcCode],
      data: { code: 'SERVICE_UNAVAILABLE', httpStatus: status, requestId },
    };
    const body = request.url.startsWith('/trpc/')
      ? { error: trpc }
      : restError('SERVICE_UNAVAILABLE', MESSAGE, requestId);
    return reply.status(status).header('connection', 'close').send(body);
  });
}
