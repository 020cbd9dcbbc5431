import type { FastifyInstance, preHandlerHookHandler } from 'fastify';

import { DomainError } from '../domain-errors.js';
import { trpcUrlOf } from './trpc-batches.js';

export interface JsonBodyLimits {
  /** Objects and arrays nested deeper than this are refused. */
  maxDepth: number;
  /** Arrays longer than this are refused. */
  maxArrayItems: number;
}

/** Why a parsed body is too deep or too wide, or undefined. Walked without recursion. */
function shapeProblem(value: unknown, limits: JsonBodyLimits): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limits.maxDepth) return `The body is nested deeper than ${limits.maxDepth} levels`;
    const children = Array.isArray(current) ? current : Object.values(current);
    if (Array.isArray(current) && current.length > limits.maxArrayItems)
      return `The body holds an array of ${current.length} items; at most ${limits.maxArrayItems} are accepted`;
    for (const child of children) stack.push([child, depth + 1]);
  }
  return undefined;
}

/**
 * JSON bodies are parsed by Fastify's own parser (prototype keys refused), then refused when they nest
 * deeper or hold longer arrays than any input of this API, before any procedure walks them. An empty body
 * is no body.
 */
export function parseJsonBodies(app: FastifyInstance, limits: JsonBodyLimits): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // Clients (fetch wrappers, axios) send the JSON content type on every call, bodiless ones included:
    // as most servers do, no body at all is read as no input rather than as malformed JSON.
    if (body.length === 0) return done(null, undefined);
    parse(
      request,
      typeof body === 'string' ? body : body.toString('utf8'),
      (error: Error | null, value?: unknown) => {
        if (error) return done(error);
        const problem = shapeProblem(value, limits);
        if (problem) return done(new DomainError('MALFORMED_BODY', problem));
        done(null, value);
      },
    );
  });
}

/**
 * tRPC reads its own bodies and `input` query parameters (its plugin parses them itself): the same caps
 * apply to them. A text that is not JSON is left for tRPC to refuse in its own words.
 */
export function trpcInputShapeHook(limits: JsonBodyLimits): preHandlerHookHandler {
  // A callback hook: the check is synchronous, and an async hook costs a promise per request.
  return (request, _reply, done) => {
    // The `input` tRPC reads: the first of the URL's, whatever Fastify's query parser made of repeats.
    const text =
      typeof request.body === 'string'
        ? request.body
        : (trpcUrlOf(request).searchParams.get('input') ?? undefined);
    if (!text) return done();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return done();
    }
    const problem = shapeProblem(value, limits);
    done(problem ? new DomainError('MALFORMED_BODY', problem.replace('The body', 'The input')) : undefined);
  };
}
