import type { TRPCError } from '@trpc/server';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fastifyTRPCOpenApiPlugin, type OpenApiRouter } from 'trpc-to-openapi';

import type { RequestContext } from '../trpc/context.js';
import { bodilessRequestHook } from './bodiless-requests.js';
import { deleteBodyHook } from './delete-bodies.js';
import { objectBodyHook } from './object-bodies.js';
import { keepRestError, restErrorBodyHook } from './rest-errors.js';
import { restMetaFinder, type RestOperation } from './rest-operations.js';

export interface RestPluginOptions {
  /** Where the operations are mounted (`/api`). */
  basePath: `/${string}`;
  router: OpenApiRouter;
  createContext: (options: { req: FastifyRequest }) => RequestContext;
  /** The router's operations, for the status each answers on success. */
  operations: readonly RestOperation[];
}

/** The REST projection of the router (trpc-to-openapi), answering in the REST contract's shapes. */
export async function restPlugin(app: FastifyInstance, options: RestPluginOptions): Promise<void> {
  const metaOf = restMetaFinder(options.operations);
  app.addHook('preHandler', objectBodyHook);
  app.addHook('preHandler', bodilessRequestHook);
  app.addHook('preHandler', deleteBodyHook);
  app.addHook('onSend', restErrorBodyHook);
  await app.register(fastifyTRPCOpenApiPlugin, {
    basePath: options.basePath,
    router: options.router,
    createContext: options.createContext,
    responseMeta: ({
      paths,
      errors,
    }: {
      paths: readonly string[] | undefined;
      errors: readonly unknown[];
    }) => {
      const meta = paths?.length === 1 ? metaOf(paths[0] as string) : undefined;
      return errors.length === 0 && meta?.successStatus ? { status: meta.successStatus } : {};
    },
    // The adapter hands over the Fastify request itself.
    onError: ({ error, path, req }: { error: TRPCError; path: string | undefined; req: FastifyRequest }) => {
      keepRestError(req, error);
      if (error.code === 'INTERNAL_SERVER_ERROR')
        app.log.error({ err: error.cause ?? error, path }, 'REST procedure failed');
    },
  });
}
