import type { OpenAPIObject, OpenApiRouter } from 'trpc-to-openapi';

import { SERVER_VERSION } from '../version.js';
import {
  API_KEY_SCHEME,
  API_KEY_SECURITY_SCHEME,
  documentApiKeySecurity,
} from './openapi-api-key-security.js';
import { completeOperations } from './openapi-completion.js';
import { documentErrorResponses } from './openapi-errors.js';
import { documentSuccessStatuses } from './openapi-success-statuses.js';
import { generateRestOperations, type RestOperation } from './rest-operations.js';

/** The REST projection's operations and its OpenAPI document, completed to say what the server answers. */
export interface RestApi {
  document: OpenAPIObject;
  operations: RestOperation[];
}

export function describeRestApi(router: OpenApiRouter, options: { baseUrl: string }): RestApi {
  const { document, operations } = generateRestOperations(router, {
    title: 'gen3d API',
    description:
      'REST projection of the gen3d tRPC procedures. Every error is JSON: {error, code, statusCode, requestId, issues?} (the Error schema).',
    version: SERVER_VERSION,
    baseUrl: options.baseUrl,
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      [API_KEY_SCHEME]: API_KEY_SECURITY_SCHEME,
    },
  });
  const metas = operations.map((operation) => operation.meta);
  return {
    document: completeOperations(
      documentErrorResponses(
        documentApiKeySecurity(documentSuccessStatuses(document, operations), operations),
        metas,
      ),
    ),
    operations,
  };
}
