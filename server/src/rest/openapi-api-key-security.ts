import type { OpenAPIObject } from 'trpc-to-openapi';

import { ApiKeyScopes } from '@gen3d/shared';

import type { RestOperation } from './rest-operations.js';

/** The security scheme of API keys, beside `bearerAuth` (access tokens). */
export const API_KEY_SCHEME = 'apiKey';

export const API_KEY_SECURITY_SCHEME = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'g3d_<public id>_<secret>',
  description: `An API key (POST /api/keys), sent as \`Authorization: Bearer g3d_…\`. Each operation open to keys lists the scope it needs (${ApiKeyScopes.join(', ')}); operations without this scheme refuse keys with 403 API_KEY_NOT_ALLOWED.`,
} as const;

/**
 * trpc-to-openapi offers every protected operation each security scheme. The API-key alternative stays only
 * on operations that declare an `apiKeyScope`, naming the scope (OpenAPI 3.1 lets any scheme list the roles
 * an operation needs); everywhere else keys are refused, so the alternative goes.
 */
export function documentApiKeySecurity(
  document: OpenAPIObject,
  operations: readonly RestOperation[],
): OpenAPIObject {
  for (const { method, path, meta } of operations) {
    const operation = document.paths?.[path]?.[method] as
      { security?: Array<Record<string, string[]>> } | undefined;
    if (!operation?.security) continue;
    const scope = meta.apiKeyScope;
    operation.security = operation.security.flatMap((requirement) => {
      if (!(API_KEY_SCHEME in requirement)) return [requirement];
      if (scope === undefined) return [];
      return [{ [API_KEY_SCHEME]: scope === 'any-key' ? [] : [scope] }];
    });
  }
  return document;
}
