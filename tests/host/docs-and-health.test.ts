import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';

import { EmbeddedMongoServer } from '@gen3d/embedded-mongo';

import { jsonOf, startTestServer, useTestServer } from '../support/server.js';

const suite = useTestServer();

describe('API documentation', () => {
  it('serves an OpenAPI 3 document listing the REST projection', async () => {
    const response = await fetch(`${suite.server.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await jsonOf(response)) as {
      openapi: string;
      paths: Record<string, Record<string, { tags?: string[] }>>;
      servers: Array<{ url: string }>;
    };
    expect(document.openapi).toMatch(/^3\./);
    expect(document.paths['/system/info']?.get?.tags).toEqual(['system']);
    expect(document.servers[0]?.url).toMatch(/\/api$/);
    const verify = (
      document.paths['/auth/register/verify'] as
        Record<string, { responses: Record<string, unknown> }> | undefined
    )?.post;
    expect(Object.keys(verify?.responses ?? {})).toContain('201');
    expect(Object.keys(verify?.responses ?? {})).not.toContain('200');
    const alias = await jsonOf(await fetch(`${suite.server.url}/api-docs/json`));
    expect(alias).toEqual(document);
  });

  it('is a valid OpenAPI document whose every operation has a summary, tags, security and examples', async () => {
    const document = (await jsonOf(await fetch(`${suite.server.url}/openapi.json`))) as {
      paths: Record<
        string,
        Record<
          string,
          {
            summary?: string;
            tags?: string[];
            security?: unknown[];
            parameters?: Array<{ example?: unknown }>;
            requestBody?: { content: Record<string, { example?: unknown }> };
            responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
          }
        >
      >;
    };
    const result = await validate(structuredClone(document) as never);
    expect(result.valid, JSON.stringify('errors' in result ? result.errors : []).slice(0, 2000)).toBe(true);
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        name: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );
    expect(operations.length).toBeGreaterThan(40);
    for (const { name, operation } of operations) {
      expect(operation.summary?.length, name).toBeGreaterThan(10);
      expect(operation.tags?.length, name).toBeGreaterThan(0);
      expect(Array.isArray(operation.security), name).toBe(true);
      for (const parameter of operation.parameters ?? []) expect(parameter.example, name).toBeDefined();
      if (operation.requestBody)
        expect(operation.requestBody.content['application/json']?.example, name).toBeDefined();
      const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'))?.[1];
      expect(success?.content?.['application/json']?.example, name).toBeDefined();
    }
    // Protected operations name the bearer scheme; public ones say they need nothing.
    const protectedOne = document.paths['/auth/me']?.get;
    expect(protectedOne?.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/auth/login']?.post?.security).toEqual([]);
  });

  it('serves Swagger UI with its assets at /api-docs', async () => {
    const page = await fetch(`${suite.server.url}/api-docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    for (const asset of [
      '/api-docs/swagger-ui-bundle.js',
      '/api-docs/swagger-ui.css',
      '/api-docs/swagger-initializer.js',
    ]) {
      expect(html).toContain(asset);
      const response = await fetch(`${suite.server.url}${asset}`);
      expect(response.status, asset).toBe(200);
      expect((await response.text()).length).toBeGreaterThan(100);
    }
    const initializer = await (await fetch(`${suite.server.url}/api-docs/swagger-initializer.js`)).text();
    expect(initializer).toContain("url: '/openapi.json'");
  });
});

describe('health and readiness', () => {
  it('reports liveness at /health', async () => {
    const response = await fetch(`${suite.server.url}/health`);
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual({ ok: true });
  });

  it('reports readiness at /ready while the database answers', async () => {
    const response = await fetch(`${suite.server.url}/ready`);
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toMatchObject({ ok: true, database: 'up' });
  });

  it('answers /ready with 503 once the database is gone, while /health stays up', async () => {
    const ownDatabase = await EmbeddedMongoServer.start({});
    const own = await startTestServer({
      uri: ownDatabase.uri,
      kind: 'embedded',
      stop: () => ownDatabase.stop(),
    });
    try {
      expect((await fetch(`${own.url}/ready`)).status).toBe(200);
      await ownDatabase.stop();
      const response = await fetch(`${own.url}/ready`);
      expect(response.status).toBe(503);
      expect(await jsonOf(response)).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        error: 'The database is not reachable',
      });
      expect((await fetch(`${own.url}/health`)).status).toBe(200);
      const info = await jsonOf(await fetch(`${own.url}/api/system/info`));
      expect(info).toMatchObject({ database: { reachable: false } });
    } finally {
      await own.close();
    }
  });
});
