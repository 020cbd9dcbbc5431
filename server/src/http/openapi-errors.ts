import type { OpenAPIObject } from 'trpc-to-openapi';
import { z } from 'zod';

import { ZRestError } from '@gen3d/shared';

import type { AppMeta } from '../trpc/trpc.js';

const ERROR_SCHEMA = 'Error';

/** What each error status means, as the document says it. */
const ERROR_STATUSES: Record<number, string> = {
  400: 'Invalid input: the body, a parameter or the JSON itself (code and field issues say which)',
  401: 'No valid access token, or wrong credentials',
  403: 'Not allowed: the role is missing, or the account is disabled',
  404: 'Not found: an id names nothing the caller may see',
  408: 'The request or the generation it waits for took too long',
  409: 'Conflict with the current state',
  413: 'The request body is larger than the server accepts',
  415: 'The body is not JSON',
  429: 'Too many requests, a quota or a cap reached (Retry-After says when to retry)',
  431: 'The URL or headers are too large',
  500: 'An unexpected error (the request id finds it in the logs)',
  502: 'The model server failed to generate',
  503: 'The server is shutting down or its database is unreachable',
};

interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in?: string; name?: string }>;
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
  responses?: Record<string, unknown>;
}

const namesAnId = (name: string): boolean => name === 'id' || name.endsWith('Id');

/** The error statuses an operation can answer: from what it takes, whether it is protected, and its meta. */
function errorStatusesOf(operation: Operation, meta: AppMeta | undefined): number[] {
  const statuses = new Set([400, 429, 431, 500, 503]);
  const bodyFields = Object.keys(
    operation.requestBody?.content?.['application/json']?.schema?.properties ?? {},
  );
  if (operation.requestBody) [413, 415].forEach((status) => statuses.add(status));
  if ((operation.security ?? []).length > 0) [401, 403].forEach((status) => statuses.add(status));
  const names = [...(operation.parameters ?? []).map((parameter) => parameter.name ?? ''), ...bodyFields];
  if (names.some(namesAnId)) statuses.add(404);
  for (const status of meta?.errorStatuses ?? []) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

/**
 * trpc-to-openapi documents a fixed set of errors in its own shape; the server answers the REST error body
 * (`{error, code, statusCode, requestId, issues?}`) with more statuses. Every operation's error responses
 * are replaced by the statuses it can answer, each with that one body.
 */
export function documentErrorResponses(document: OpenAPIObject, metas: AppMeta[]): OpenAPIObject {
  const components = (document.components ??= {});
  const schemas = Object.fromEntries(
    Object.entries(components.schemas ?? {}).filter(([name]) => !name.startsWith('error.')),
  );
  components.schemas = schemas;
  const { $schema: _dialect, ...errorSchema } = z.toJSONSchema(ZRestError) as Record<string, unknown>;
  schemas[ERROR_SCHEMA] = errorSchema;
  const metaOf = new Map<string, AppMeta>(
    metas.flatMap((meta): Array<[string, AppMeta]> =>
      meta.openapi ? [[`${meta.openapi.method.toLowerCase()} ${meta.openapi.path}`, meta]] : [],
    ),
  );
  for (const [path, pathItem] of Object.entries(document.paths ?? {})) {
    for (const [method, value] of Object.entries(pathItem as Record<string, unknown>)) {
      const operation = value as Operation;
      if (!operation.responses) continue;
      const responses = Object.fromEntries(
        Object.entries(operation.responses).filter(([status]) => status.startsWith('2')),
      );
      operation.responses = responses;
      for (const status of errorStatusesOf(operation, metaOf.get(`${method} ${path}`))) {
        responses[String(status)] = {
          description: ERROR_STATUSES[status] ?? 'Error',
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA}` } } },
        };
      }
    }
  }
  return document;
}
