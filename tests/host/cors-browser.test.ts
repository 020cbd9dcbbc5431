import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { browserAvailable, useBrowser, warnWithoutBrowser } from '../support/browser.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

warnWithoutBrowser('the cross-origin browser test');

/** Another web app, on an origin of its own (another port), as a third party's single-page app would be. */
let otherApp: Server;
let otherOrigin: string;
let database: TestDatabase;
let api: TestServer;
let user: SignedIn;

beforeAll(async () => {
  otherApp = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another app</title>');
  });
  await new Promise<void>((resolve) => otherApp.listen(0, '127.0.0.1', () => resolve()));
  otherOrigin = `http://127.0.0.1:${(otherApp.address() as AddressInfo).port}`;
  database = await startTestDatabase();
  api = await startTestServer(database, {
    env: { CORS_ORIGINS: `https://app.example.com,${otherOrigin}`, AUTH_RATE_LIMIT_MAX: '1000' },
  });
  const admin = await signInNewAdmin(api);
  user = await signInNewUser(api, admin, 'elsewhere@example.com');
});

afterAll(async () => {
  await api?.close();
  await database?.stop();
  otherApp?.close();
});

describe('CORS for apps on other origins', () => {
  it('answers a preflight for every method the API uses, with the headers it takes, cached for 10 minutes', async () => {
    for (const method of ['PATCH', 'DELETE', 'POST']) {
      const preflight = await fetch(`${api.url}/api/chats/0123456789abcdef01234567`, {
        method: 'OPTIONS',
        headers: {
          origin: otherOrigin,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(otherOrigin);
      expect(preflight.headers.get('access-control-allow-methods')?.split(/,\s*/)).toEqual(
        expect.arrayContaining([method]),
      );
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(preflight.headers.get('access-control-max-age')).toBe('600');
    }
  });

  describe.runIf(browserAvailable)('from a real browser', () => {
    const browser = useBrowser();

    it('creates, renames and deletes a chat with PATCH and DELETE, and reads the exposed headers', async () => {
      const page = await browser().newPage();
      await page.goto(otherOrigin);
      const seen = await page.evaluate(
        async ({ base, token }) => {
          const call = async (method: string, path: string, body?: unknown) => {
            const response = await fetch(`${base}/api${path}`, {
              method,
              headers: {
                authorization: `Bearer ${token}`,
                ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              },
              ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            });
            return {
              status: response.status,
              body: (await response.json()) as Record<string, unknown>,
              requestId: response.headers.get('x-request-id'),
            };
          };
          const created = await call('POST', '/chats', { title: 'from another origin' });
          const renamed = await call('PATCH', `/chats/${String(created.body.id)}`, {
            title: 'renamed there',
          });
          const deleted = await call('DELETE', `/chats/${String(created.body.id)}`);
          const left = await call('GET', '/chats');
          return { created, renamed, deleted, left };
        },
        { base: api.url, token: user.token },
      );
      expect(seen.created.status).toBe(201);
      expect(seen.created.requestId).toBeTruthy();
      expect([seen.renamed.status, seen.renamed.body.title]).toEqual([200, 'renamed there']);
      expect([seen.deleted.status, seen.deleted.body.ok]).toEqual([200, true]);
      expect(seen.left.body).toEqual([]);
    });
  });
});
