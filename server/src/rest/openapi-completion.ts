import { sample } from 'openapi-sampler';
import type { OpenAPIObject } from 'trpc-to-openapi';

type Schema = Parameters<typeof sample>[0];

interface MediaType {
  schema?: Schema;
  example?: unknown;
  examples?: unknown;
}

interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ schema?: Schema; example?: unknown }>;
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, { content?: Record<string, MediaType> }>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function exampleFor(media: MediaType | undefined, document: OpenAPIObject): void {
  if (!media?.schema || media.example !== undefined || media.examples !== undefined) return;
  media.example = sample(media.schema, { skipReadOnly: true, quiet: true }, document);
}

/**
 * Every operation states its security (public ones: an explicit empty list) and carries examples of its
 * parameters, request body and success response, sampled from its own schemas (Redocly's openapi-sampler:
 * defaults, enums, formats and descriptions' types), so Swagger UI and generated clients show real shapes.
 */
export function completeOperations(document: OpenAPIObject): OpenAPIObject {
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = (pathItem as Record<string, Operation | undefined>)[method];
      if (!operation) continue;
      operation.security ??= [];
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema && parameter.example === undefined)
          parameter.example = sample(parameter.schema, { quiet: true }, document);
      }
      exampleFor(operation.requestBody?.content?.['application/json'], document);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (status.startsWith('2')) exampleFor(response.content?.['application/json'], document);
      }
    }
  }
  return document;
}
