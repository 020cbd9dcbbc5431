import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { DomainError } from '../domain-errors.js';
import type { RequestContext } from './context.js';
import { formatError, TRPC_CODE_OF_ERROR_CODE } from './error-formatter.js';

const t = initTRPC
  .context<RequestContext>()
  .meta<OpenApiMeta>()
  .create({
    // Stack traces never leave the server, whatever NODE_ENV says.
    isDev: false,
    errorFormatter: ({ error, shape, ctx }) => formatError({ error, shape, requestId: ctx?.requestId }),
    sse: {
      ping: { enabled: true, intervalMs: 15_000 },
      client: { reconnectAfterInactivityMs: 30_000 },
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Domain errors thrown by services become tRPC errors with the matching code (and HTTP status). */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODE_OF_ERROR_CODE[cause.code], message: cause.message, cause });
  }
  return result;
});

export const baseProcedure = t.procedure.use(domainErrors);
export const publicProcedure = baseProcedure;
