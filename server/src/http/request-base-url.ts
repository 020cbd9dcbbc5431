import { AsyncLocalStorage } from 'node:async_hooks';

import type { FastifyRequest, preHandlerHookHandler } from 'fastify';

/** A Host header (or trusted X-Forwarded-Host): a name or an IP literal, and a port; nothing else. */
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)(?::\d{1,5})?$/i;

const baseUrls = new AsyncLocalStorage<string>();

/**
 * The base URL the client reached this server at. On `publicUrl`'s own host that is `publicUrl` (its scheme
 * and path prefix); on any other host (127.0.0.1 for localhost, a LAN address, a mapped container port) it
 * is the request's scheme and host, with `publicUrl`'s path prefix. X-Forwarded-Proto and X-Forwarded-Host
 * count only from trusted proxies (Fastify's `trustProxy`). A request without a well-formed host gets
 * `publicUrl`.
 */
export function baseUrlOf(request: Pick<FastifyRequest, 'host' | 'protocol'>, publicUrl: string): string {
  return baseUrlFinder(publicUrl)(request);
}

/** `baseUrlOf` for one `publicUrl`, parsed once rather than on every request. */
function baseUrlFinder(publicUrl: string): (request: Pick<FastifyRequest, 'host' | 'protocol'>) => string {
  const configured = new URL(publicUrl);
  const publicHost = configured.host.toLowerCase();
  const pathPrefix = configured.pathname.replace(/\/+$/, '');
  return (request) => {
    const host = request.host;
    if (typeof host !== 'string' || !HOST.test(host)) return publicUrl;
    if (host.toLowerCase() === publicHost) return publicUrl;
    return `${request.protocol}://${host}${pathPrefix}`;
  };
}

/** Runs every route handler knowing the base URL its client used, for links built while answering. */
export function requestBaseUrlHook(publicUrl: string): preHandlerHookHandler {
  const baseUrlFor = baseUrlFinder(publicUrl);
  return (request, _reply, done) => baseUrls.run(baseUrlFor(request), done);
}

/** The base URL of the request being answered; `fallback` outside a request (workers, emails). */
export function currentBaseUrl(fallback: string): string {
  return baseUrls.getStore() ?? fallback;
}
