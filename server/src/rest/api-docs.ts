import { createRequire } from 'node:module';
import { dirname } from 'node:path';

import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIObject } from 'trpc-to-openapi';

/**
 * The directory of Swagger UI's files. Importing the package would evaluate its 1.5 MB browser bundle in
 * the server (half a second at start-up and megabytes held for good) only to learn this path.
 */
const SWAGGER_UI_DIRECTORY = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>gen3d API</title>
    <link rel="stylesheet" href="/api-docs/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/api-docs/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/api-docs/swagger-ui-bundle.js"></script>
    <script src="/api-docs/swagger-ui-standalone-preset.js"></script>
    <script src="/api-docs/swagger-initializer.js"></script>
  </body>
</html>
`;

// Served as a file rather than inline so the Content-Security-Policy can stay at 'self'.
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    // Logging in (or refreshing) from the page authorizes the page: later calls carry the new token.
    responseInterceptor: function (response) {
      var path = new URL(response.url, window.location.href).pathname;
      var signIn = path === '/api/auth/login' || path === '/api/auth/refresh';
      if (signIn && response.ok && response.body && response.body.token) window.ui.preauthorizeApiKey('bearerAuth', response.body.token);
      return response;
    },
  });
};
`;

/** The OpenAPI document (`/openapi.json`, `/api-docs/json`) and Swagger UI at `/api-docs`. */
export async function apiDocsRoutes(
  app: FastifyInstance,
  options: { document: OpenAPIObject },
): Promise<void> {
  await app.register(fastifyStatic, {
    root: SWAGGER_UI_DIRECTORY,
    prefix: '/api-docs/',
    index: false,
    decorateReply: false,
    maxAge: '1h',
  });
  const sendDocument = async () => options.document;
  app.get('/openapi.json', sendDocument);
  app.get('/api-docs/json', sendDocument);
  app.get('/api-docs/swagger-initializer.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(INITIALIZER),
  );
  const sendPage = async (
    _request: unknown,
    reply: { type: (value: string) => { send: (body: string) => unknown } },
  ) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE);
  app.get('/api-docs', sendPage);
  app.get('/api-docs/', sendPage);
}
