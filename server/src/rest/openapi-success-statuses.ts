import type { OpenAPIObject } from 'trpc-to-openapi';

import type { RestOperation } from './rest-operations.js';

/**
 * trpc-to-openapi documents every success as 200; procedures answering 201 (see `successStatus`)
 * get their success response moved so the document says what the server does.
 */
export function documentSuccessStatuses(
  document: OpenAPIObject,
  operations: readonly RestOperation[],
): OpenAPIObject {
  for (const { method, path, meta } of operations) {
    if (!meta.successStatus) continue;
    const operation = document.paths?.[path]?.[method];
    const responses = operation?.responses as Record<string, unknown> | undefined;
    if (!responses?.['200']) continue;
    responses[String(meta.successStatus)] = responses['200'];
    delete responses['200'];
  }
  return document;
}
