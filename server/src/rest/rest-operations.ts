import {
  generateOpenApiDocument,
  normalizePath,
  type GenerateOpenApiDocumentOptions,
  type OpenAPIObject,
  type OpenApiRouter,
} from 'trpc-to-openapi';

import type { AppMeta } from '../trpc/trpc.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A procedure projected as a REST operation. */
export interface RestOperation {
  /** The operation as the document keys it: lower-case method and normalised path. */
  method: Method;
  path: string;
  /** trpc-to-openapi's id of the operation: the procedure's dotted path with dashes (`chats-create`). */
  operationId: string;
  meta: AppMeta;
}

/** trpc-to-openapi's operation id of the procedure at a dotted path. */
export const operationIdOf = (procedurePath: string): string => procedurePath.replaceAll('.', '-');

/**
 * The document trpc-to-openapi generates from the router, and the operations in it with their procedures'
 * meta. trpc-to-openapi hands each projected procedure's meta to the `filter` option, which accepts them
 * all: tRPC has no public way to list a router's procedures, and this one reads no internals of either.
 */
export function generateRestOperations(
  router: OpenApiRouter,
  options: Omit<GenerateOpenApiDocumentOptions<AppMeta>, 'filter'>,
): { document: OpenAPIObject; operations: RestOperation[] } {
  const metas: AppMeta[] = [];
  const document = generateOpenApiDocument<AppMeta>(router, {
    ...options,
    filter: ({ metadata }) => {
      metas.push(metadata);
      return true;
    },
  });
  const operations = metas.map((meta): RestOperation => {
    const openapi = meta.openapi as NonNullable<AppMeta['openapi']>;
    const method = openapi.method.toLowerCase() as Method;
    const path = normalizePath(openapi.path);
    // A chosen id would lose the procedure's path, which the REST adapter names a call by.
    if (openapi.operationId !== undefined)
      throw new Error(`${openapi.method} ${path} sets an operationId; the procedure's path names it`);
    const operationId = document.paths?.[path]?.[method]?.operationId;
    if (operationId === undefined) throw new Error(`${openapi.method} ${path} is missing from the document`);
    return { method, path, operationId, meta };
  });
  return { document, operations };
}

/** The meta of the projected procedure at a dotted path (`chats.create`), as the REST adapter names it. */
export function restMetaFinder(
  operations: readonly RestOperation[],
): (procedurePath: string) => AppMeta | undefined {
  const byOperationId = new Map<string, AppMeta>();
  for (const { operationId, meta } of operations) {
    if (byOperationId.has(operationId)) throw new Error(`Two REST operations have the id ${operationId}`);
    byOperationId.set(operationId, meta);
  }
  return (procedurePath) => byOperationId.get(operationIdOf(procedurePath));
}
