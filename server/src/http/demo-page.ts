import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import type { FastifyInstance } from 'fastify';

const DEMO_DIR = fileURLToPath(new URL('../../demo/', import.meta.url));

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

let bundle: Promise<string> | undefined;

/** The demo script with @gen3d/client and <model-viewer>, bundled once per process on first request. */
function demoScript(): Promise<string> {
  bundle ??= build({
    entryPoints: [`${DEMO_DIR}app.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  })
    .then((result) => result.outputFiles[0]?.text ?? '')
    .catch((error: unknown) => {
      bundle = undefined;
      throw error;
    });
  return bundle;
}

/**
 * A small page at `/` where a person can register, log in, type a prompt, watch the progress and turn the
 * result around (Google's <model-viewer>); its script uses @gen3d/client like any frontend would.
 */
export async function demoPageRoutes(app: FastifyInstance): Promise<void> {
  const [html, css] = await Promise.all([
    readFile(`${DEMO_DIR}index.html`, 'utf8'),
    readFile(`${DEMO_DIR}styles.css`, 'utf8'),
  ]);
  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', PAGE_POLICY)
      .send(html),
  );
  app.get('/demo/styles.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(css),
  );
  app.get('/demo/app.js', async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(await demoScript()),
  );
}
