import type { OpenAPIObject } from 'trpc-to-openapi';
import { z } from 'zod';

import { ErrorCatalogue, ErrorCodes, ZRestError, type TErrorCode } from '@gen3d/shared';

import type { AppMeta } from '../trpc/trpc.js';

const ERROR_SCHEMA = 'Error';

/** Codes every operation can answer: bad input, limits, the HTTP parser, and the server's own trouble. */
const EVERY_OPERATION: TErrorCode[] = [
  'VALIDATION_FAILED',
  'BAD_REQUEST',
  'MALFORMED_BODY',
  'RATE_LIMITED',
  'HEADERS_TOO_LARGE',
  'INTERNAL',
  'SERVICE_UNAVAILABLE',
];
const WITH_A_BODY: TErrorCode[] = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];
const PROTECTED: TErrorCode[] = ['UNAUTHORIZED', 'FORBIDDEN'];

interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in?: string; name?: string }>;
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
  responses?: Record<string, unknown>;
}

const namesAnId = (name: string): boolean => name === 'id' || name.endsWith('Id');

/** The error codes an operation can answer: from what it takes, whether it is protected, and its meta. */
function errorCodesOf(operation: Operation, meta: AppMeta | undefined): Set<TErrorCode> {
  const codes = new Set(EVERY_OPERATION);
  const bodyFields = Object.keys(
    operation.requestBody?.content?.['application/json']?.schema?.properties ?? {},
  );
  if (operation.requestBody) WITH_A_BODY.forEach((code) => codes.add(code));
  if ((operation.security ?? []).length > 0) PROTECTED.forEach((code) => codes.add(code));
  const names = [...(operation.parameters ?? []).map((parameter) => parameter.name ?? ''), ...bodyFields];
  if (names.some(namesAnId)) codes.add('NOT_FOUND');
  for (const code of meta?.errorCodes ?? []) codes.add(code);
  // An API key is refused where no scope is declared, and needs the declared one elsewhere.
  if (meta?.apiKeyScope === undefined) codes.add('API_KEY_NOT_ALLOWED');
  else if (meta.apiKeyScope !== 'any-key') codes.add('MISSING_SCOPE');
  return codes;
}

/** The operation's codes grouped by their HTTP status, in the catalogue's order within a status. */
function codesByStatus(codes: Set<TErrorCode>): Array<[number, TErrorCode[]]> {
  const grouped = new Map<number, TErrorCode[]>();
  for (const code of ErrorCodes.filter((known) => codes.has(known))) {
    const status = ErrorCatalogue[code].status;
    grouped.set(status, [...(grouped.get(status) ?? []), code]);
  }
  return [...grouped].sort(([a], [b]) => a - b);
}

/**
 * trpc-to-openapi documents a fixed set of errors in its own shape; the server answers the REST error body
 * (`{error, code, statusCode, requestId, issues?}`) with more statuses. Every operation's error responses
 * are replaced by the statuses of the codes it can answer, as the catalogue gives them, each with that one
 * body and the codes as its description.
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
      for (const [status, codes] of codesByStatus(errorCodesOf(operation, metaOf.get(`${method} ${path}`)))) {
        responses[String(status)] = {
          description: codes.map((code) => `${code}: ${ErrorCatalogue[code].message}`).join('; '),
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA}` } } },
        };
      }
    }
  }
  return document;
}
