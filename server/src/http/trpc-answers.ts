import type { FastifyInstance, FastifyReply } from 'fastify';
import vary from 'vary';

/** Fastify's own test (not `instanceof`, which a Response of another undici copy would fail). */
function isResponse(payload: unknown): payload is Response {
  return Object.prototype.toString.call(payload) === '[object Response]';
}

/** Whether tRPC's answer is one complete JSON document (not an event stream or a streamed batch). */
function isWholeJson(payload: Response): boolean {
  return (
    payload.body !== null &&
    payload.headers.get('content-type')?.startsWith('application/json') === true &&
    !payload.headers.has('transfer-encoding')
  );
}

/**
 * The reply's `Vary` (CORS sets `Origin` there when it chooses the allowed origin) together with the
 * fields tRPC's answer varies on. Sending the answer's headers as they are would replace the first, and
 * a cache could then hand one origin's answer, with its allowed origin, to another.
 */
function mergedVary(reply: FastifyReply, answer: Response): string | undefined {
  const answerVary = answer.headers.get('vary');
  const replyVary = reply.getHeader('vary');
  if (answerVary === null || replyVary === undefined) return undefined;
  const current = Array.isArray(replyVary) ? replyVary.join(', ') : String(replyVary);
  try {
    return vary.append(current, answerVary);
  } catch {
    // `vary` refuses an empty or malformed field list; the reply's own fields still hold.
    return current;
  }
}

/**
 * tRPC answers with a fetch Response, which Fastify sends by reading its body stream chunk by chunk
 * with chunked encoding, its headers replacing the reply's. A query's or mutation's JSON answer is
 * complete when it is resolved, so it is sent whole, with its length, in one write; event streams and
 * streamed batches stay streams. Either way `Vary` keeps the fields set before tRPC answered.
 */
export function sendTrpcAnswers(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!isResponse(payload)) return payload;
    const varyHeader = mergedVary(reply, payload);
    if (!isWholeJson(payload)) {
      if (varyHeader !== undefined) payload.headers.set('vary', varyHeader);
      return payload;
    }
    reply.code(payload.status);
    payload.headers.forEach((value, name) => {
      reply.header(name, value);
    });
    if (varyHeader !== undefined) reply.header('vary', varyHeader);
    return payload.text();
  });
}
