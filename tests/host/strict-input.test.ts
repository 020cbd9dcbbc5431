import { request as httpRequest } from 'node:http';

import { describe, expect, it } from 'vitest';

import { signInNewAdmin, type SignedIn } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer();
let admin: SignedIn;

/** A REST call with a raw body, as a careless or hostile client sends it. */
async function rawRest(method: string, path: string, body: string | undefined, token?: string) {
  const response = await fetch(`${suite.server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
}

/** A raw HTTP/1.1 request (fetch refuses some of what attackers send). */
function rawHttp(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(suite.server.url);
    const request = httpRequest({ host: '127.0.0.1', port, path, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

describe('body fields are parsed, never coerced', () => {
  it.each([
    ['seed as a nested array', { params: { seed: [[3]] } }, 'params.seed'],
    ['seed as a boolean', { params: { seed: true } }, 'params.seed'],
    ['seed as a string', { params: { seed: '7' } }, 'params.seed'],
    ['guidanceScale as an empty string', { options: { guidanceScale: '' } }, 'options.guidanceScale'],
    [
      'formats with too many entries',
      { params: { formats: ['glb', 'glb', 'glb', 'glb'] } },
      'params.formats',
    ],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field', async (_name, fields, path) => {
    admin ??= await signInNewAdmin(suite.server);
    const answer = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a red fox', ...fields },
      admin.token,
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ path })],
    });
  });

  it.each([
    ['"false"', 'false'],
    ['an operator object', { $gt: '' }],
    ['an array', [1, 2]],
  ])('refuses settings.notifications as %s', async (_name, value) => {
    admin ??= await signInNewAdmin(suite.server);
    const answer = await callRest(
      suite.server.url,
      'PATCH',
      '/auth/me',
      { settings: { notifications: value } },
      admin.token,
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ path: 'settings.notifications' })],
    });
  });

  it('refuses a string seed over tRPC too, after REST calls have used the same schema', async () => {
    admin ??= await signInNewAdmin(suite.server);
    const response = await fetch(`${suite.server.url}/trpc/generation.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ prompt: 'a red fox', params: { seed: '7' } }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { data: { code: 'VALIDATION_FAILED' } } });
  });
});

describe('bodies and query strings', () => {
  it.each([['true'], ['1'], ['null'], ['[]'], ['"chat"']])(
    'refuses the JSON body %s: a body must be an object',
    async (body) => {
      admin ??= await signInNewAdmin(suite.server);
      const answer = await rawRest('POST', '/api/chats', body, admin.token);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'MALFORMED_BODY',
        error: expect.stringMatching(/^The body must be a JSON object/),
      });
    },
  );

  it('refuses bodies nested deeper than BODY_MAX_DEPTH or with arrays longer than BODY_MAX_ARRAY_ITEMS, on REST and tRPC', async () => {
    admin ??= await signInNewAdmin(suite.server);
    const deep = `{"prompt":"a fox","params":{"seed":${'['.repeat(2_000)}3${']'.repeat(2_000)}}}`;
    const wide = JSON.stringify({ prompt: 'a fox', params: { formats: Array(5_000).fill('glb') } });
    for (const path of ['/api/jobs', '/trpc/generation.create']) {
      const tooDeep = await rawRest('POST', path, deep, admin.token);
      expect(tooDeep.status).toBe(400);
      expect(JSON.stringify(tooDeep.body)).toMatch(/The (body|input) is nested deeper than 32 levels/);
      const tooWide = await rawRest('POST', path, wide, admin.token);
      expect(tooWide.status).toBe(400);
      expect(JSON.stringify(tooWide.body)).toMatch(
        /The (body|input) holds an array of 5000 items; at most 1000 are accepted/,
      );
    }
  });

  it('refuses prototype keys in a body', async () => {
    admin ??= await signInNewAdmin(suite.server);
    const answer = await rawRest(
      'POST',
      '/api/chats',
      '{"title":"x","__proto__":{"admin":true}}',
      admin.token,
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'MALFORMED_BODY' });
  });

  it.each([['1e3'], ['0x10'], [' 2'], ['2.0'], ['-1'], ['1000000000000000']])(
    'refuses page=%s: numbers in a query string are decimal digits within bounds',
    async (page) => {
      admin ??= await signInNewAdmin(suite.server);
      const answer = await callRest(
        suite.server.url,
        'GET',
        `/chats?page=${encodeURIComponent(page)}`,
        undefined,
        admin.token,
      );
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        issues: [expect.objectContaining({ path: 'page' })],
      });
    },
  );

  it('reads page=2 (an empty page= counts as absent) and accepts an id in either case', async () => {
    admin ??= await signInNewAdmin(suite.server);
    expect(
      (await callRest(suite.server.url, 'GET', '/chats?page=2&limit=5', undefined, admin.token)).status,
    ).toBe(200);
    expect((await callRest(suite.server.url, 'GET', '/chats?page=', undefined, admin.token)).status).toBe(
      200,
    );
    const chat = await callRest(suite.server.url, 'POST', '/chats', { title: 'Mixed case' }, admin.token);
    const upper = await callRest(
      suite.server.url,
      'PATCH',
      `/chats/${String(chat.body.id).toUpperCase()}`,
      { title: 'Renamed' },
      admin.token,
    );
    expect(upper.status).toBe(200);
    expect(upper.body).toMatchObject({ id: chat.body.id, title: 'Renamed' });
  });
});

describe('errors raised before routing carry the one error body', () => {
  it('answers a 16 kB URL and an oversized header block with 431 HEADERS_TOO_LARGE', async () => {
    const longUrl = await rawHttp(`/api/chats?q=${'a'.repeat(16_500)}`);
    expect(longUrl).toMatchObject({
      status: 431,
      body: { code: 'HEADERS_TOO_LARGE', statusCode: 431, requestId: expect.any(String) },
    });
    const bigHeaders = await rawHttp('/health', { 'x-filler': 'b'.repeat(17_000) });
    expect(bigHeaders).toMatchObject({ status: 431, body: { code: 'HEADERS_TOO_LARGE' } });
  });

  it('answers bad percent-encoding in the path or the query with 400 and an unknown route with 404 ROUTE_NOT_FOUND', async () => {
    const badEncoding = await rawHttp('/api/chats/%E0%A4%A');
    expect(badEncoding.status).toBe(400);
    expect(badEncoding.body).toMatchObject({
      code: 'BAD_REQUEST',
      statusCode: 400,
      error: expect.any(String),
    });
    const badQuery = await rawHttp('/api/users?search=%E0%A4%A');
    expect(badQuery).toMatchObject({
      status: 400,
      body: { code: 'BAD_REQUEST', error: 'The query string is not valid percent-encoding (UTF-8)' },
    });
    const unknown = await rawHttp('/api/no-such-thing');
    expect(unknown).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
  });
});
