import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { DomainError } from '../../server/src/domain-errors.js';
import { formatError } from '../../server/src/trpc/error-formatter.js';
import { jsonOf, useTestServer } from '../support/server.js';

const suite = useTestServer({ env: { BODY_LIMIT_BYTES: '1024' } });

function expectRestError(body: Record<string, unknown>, code: string, statusCode: number): void {
  expect(body).toMatchObject({ code, statusCode });
  expect(typeof body.error).toBe('string');
  expect(String(body.error).length).toBeGreaterThan(0);
  expect(typeof body.requestId).toBe('string');
  expect(JSON.stringify(body)).not.toMatch(/at .+\.(ts|js):\d+/);
}

describe('error responses over HTTP', () => {
  it('answers an unknown route with 404 ROUTE_NOT_FOUND and an error string', async () => {
    const response = await fetch(`${suite.server.url}/no/such/route`);
    expect(response.status).toBe(404);
    expectRestError(await jsonOf(response), 'ROUTE_NOT_FOUND', 404);
  });

  it('answers an unknown REST path under /api with 404 and an error string', async () => {
    const response = await fetch(`${suite.server.url}/api/no-such-thing`);
    expect(response.status).toBe(404);
    expectRestError(await jsonOf(response), 'ROUTE_NOT_FOUND', 404);
  });

  it('answers malformed JSON with 400 MALFORMED_BODY', async () => {
    const response = await fetch(`${suite.server.url}/api/system/info`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt": ',
    });
    expect(response.status).toBe(400);
    expectRestError(await jsonOf(response), 'MALFORMED_BODY', 400);
  });

  it('answers a body over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
    const response = await fetch(`${suite.server.url}/api/system/info`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filler: 'x'.repeat(4096) }),
    });
    expect(response.status).toBe(413);
    expectRestError(await jsonOf(response), 'PAYLOAD_TOO_LARGE', 413);
  });

  it('answers an unknown tRPC procedure with 404 in the tRPC error shape', async () => {
    const response = await fetch(`${suite.server.url}/trpc/system.nothing`);
    expect(response.status).toBe(404);
    const body = (await jsonOf(response)) as {
      error: { message: string; data: { code: string; httpStatus: number } };
    };
    expect(body.error.data).toMatchObject({ code: 'ROUTE_NOT_FOUND', httpStatus: 404 });
    expect(body.error.message).toContain('system.nothing');
  });

  it('answers unparseable tRPC input, in the query or the body, with 400 MALFORMED_BODY as REST does', async () => {
    const inQuery = await fetch(`${suite.server.url}/trpc/system.info?input=%7Bnot-json`);
    const inBody = await fetch(`${suite.server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email": ',
    });
    for (const response of [inQuery, inBody]) {
      expect(response.status).toBe(400);
      const body = (await jsonOf(response)) as { error: { message: string; data: Record<string, unknown> } };
      expect(body.error.data.code).toBe('MALFORMED_BODY');
      expect(body.error.message).toMatch(/^The input is not valid JSON/);
      expect(body.error.data).not.toHaveProperty('stack');
    }
  });
});

describe('the error formatter', () => {
  const shape = { code: -32600, data: { httpStatus: 400, path: 'jobs.create' } };

  it('turns zod input errors into VALIDATION_FAILED with dotted field paths', () => {
    const parsed = z
      .object({ prompt: z.string().min(1), options: z.object({ seed: z.number().int() }) })
      .safeParse({ prompt: '', options: { seed: 1.5 } });
    const error = new TRPCError({ code: 'BAD_REQUEST', cause: parsed.error });
    const formatted = formatError({ error, shape, requestId: 'req-1' });
    expect(formatted.data.code).toBe('VALIDATION_FAILED');
    expect(formatted.data.issues?.map((issue) => issue.path)).toEqual(['prompt', 'options.seed']);
    expect(formatted.message).toContain('prompt');
    expect(formatted.message).toContain('options.seed');
  });

  it('masks unexpected errors behind the request id', () => {
    const error = new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      cause: new Error('connection to 10.0.0.5 failed: password=hunter2'),
    });
    const formatted = formatError({
      error,
      shape: { code: -32603, data: { httpStatus: 500 } },
      requestId: 'req-42',
    });
    expect(formatted.data.code).toBe('INTERNAL');
    expect(formatted.message).toBe('Internal server error (request id req-42)');
    expect(JSON.stringify(formatted)).not.toContain('hunter2');
  });

  it('keeps the code and message of domain errors', () => {
    const error = new TRPCError({
      code: 'CONFLICT',
      message: 'taken',
      cause: new DomainError('CONFLICT', 'That email is already registered'),
    });
    const formatted = formatError({
      error,
      shape: { code: -32009, data: { httpStatus: 409 } },
      requestId: 'r',
    });
    expect(formatted).toMatchObject({
      message: 'That email is already registered',
      data: { code: 'CONFLICT', httpStatus: 409 },
    });
  });
});
