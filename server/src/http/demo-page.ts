import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The page's own policy: <model-viewer> compiles WebAssembly (its image decoders) and draws from blob:
 * and data: URLs; everything still comes from this origin.
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "img-src 'self' data: blob:",
  "connect-src 'self' data: blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
].join('; ');

/**
 * The demo page (the `@gen3d/demo` package's built files) at `/`, its script and styles under `/demo/`.
 * Without a build the routes are left out and the start-up log says how to build it.
 */
export async function demoPageRoutes(app: FastifyInstance, options: { directory: string }): Promise<void> {
  const page = join(options.directory, 'index.html');
  if (!existsSync(page)) {
    app.log.warn(
      { directory: options.directory },
      'the demo page is not built, so / is not served: run `pnpm build:demo` (pnpm start does)',
    );
    return;
  }
  const html = await readFile(page, 'utf8');
  await app.register(fastifyStatic, {
    root: options.directory,
    prefix: '/demo/',
    index: false,
    decorateReply: false,
    maxAge: '5m',
    allowedPath: (path) => path !== '/index.html',
  });
  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', PAGE_POLICY)
      .send(html),
  );
}
