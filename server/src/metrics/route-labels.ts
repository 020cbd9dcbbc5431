import { normalizePath } from 'trpc-to-openapi';

import { escapeRegExp } from '../infra/regexp.js';

/** The one label every URL no route declares shares, so unknown URLs cannot add series. */
export const UNMATCHED_ROUTE = 'unmatched';
/** The one label every procedure name the router does not know shares. */
export const UNKNOWN_PROCEDURE = 'unknown';

/** A REST operation as the OpenAPI meta declares it: `GET /jobs/{id}`. */
export interface RestOperation {
  method: string;
  path: string;
}

/**
 * Names the REST operation a request reaches by its pattern (`/api/jobs/:id`), matching the way
 * trpc-to-openapi picks it: the first operation of the method whose path matches, case-insensitively.
 */
export function restRouteLabeller(
  basePath: string,
  operations: readonly RestOperation[],
): (method: string, url: string) => string {
  const patterns = operations.map((operation) => {
    const path = normalizePath(operation.path);
    const literal = path.split(/\{[^}]+\}/).map(escapeRegExp);
    return {
      method: operation.method.toUpperCase(),
      matcher: new RegExp(`^${literal.join('[^/]+')}$`, 'i'),
      label: `${basePath}${path.replace(/\{([^}]+)\}/g, ':$1')}`,
    };
  });
  return (method, url) => {
    if (!url.startsWith(`${basePath}/`)) return UNMATCHED_ROUTE;
    // As the projection reads it: the URL without its base, resolved against a fixed origin.
    const path = normalizePath(new URL(`http://rest.invalid${url.slice(basePath.length)}`).pathname);
    const found = patterns.find((pattern) => pattern.method === method && pattern.matcher.test(path));
    return found?.label ?? UNMATCHED_ROUTE;
  };
}

/** A procedure's own path when the router has it, the shared unknown label otherwise. */
export function procedureLabeller(procedurePaths: readonly string[]): (path: string) => string {
  const known = new Set(procedurePaths);
  return (path) => (known.has(path) ? path : UNKNOWN_PROCEDURE);
}
