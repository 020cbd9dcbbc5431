import type { FastifyInstance } from 'fastify';

/** Whether tRPC's answer is one complete JSON document (not an event stream or a streamed batch). */
function isWholeJson(payload: unknown): payload is Response {
  return (
    payload instanceof Response &&
    payload.body !== null &&
    payload.headers.get('content-type')?.startsWith('application/json') === true &&
    !payload.headers.has('transfer-encoding')
  );
}

/**
 * tRPC answers with a fetch Response, which Fastify sends by reading its body stream chunk by chunk
 * with chunked encoding. A query's or mutation's JSON answer is complete when it is resolved, so it is
 * sent whole, with its length, in one write; event streams and streamed batches stay streams.
 */
export function sendWholeTrpcAnswers(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!isWholeJson(payload)) return payload;
    reply.code(payload.status);
    payload.headers.forEach((value, name) => {
      reply.header(name, value);
    });
    return payload.text();
  });
}
