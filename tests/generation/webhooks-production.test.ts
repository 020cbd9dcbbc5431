import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import {
  databaseUri,
  startTestDatabase,
  uniqueDatabaseName,
  type TestDatabase,
} from '../support/database.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

let database: TestDatabase;
let server: TestServer;
let user: SignedIn;

beforeAll(async () => {
  database = await startTestDatabase();
  const mongodbUri = databaseUri(database, uniqueDatabaseName('hooks-production'));
  server = await startTestServer(database, {
    mongodbUri,
    env: {
      NODE_ENV: 'production',
      MONGODB_URI: mongodbUri,
      CORS_ORIGINS: 'https://app.example.com',
      MAIL_OUTBOX_IN_PRODUCTION: 'true',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'gen3d-hooks-production-')),
      METRICS_TOKEN: 'a-metrics-token-for-this-test',
      AUTH_RATE_LIMIT_MAX: '1000',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    },
  });
  const admin = await signInNewAdmin(server);
  user = await signInNewUser(server, admin, 'prod-hooks@example.com');
});

afterAll(async () => {
  await server.close();
  await database.stop();
});

describe('webhook URLs in production', () => {
  it('must be https, unless WEBHOOK_ALLOWED_HOSTS names the host', async () => {
    const register = (url: string) =>
      callRest(server.url, 'POST', '/webhooks', { url, events: ['job.succeeded'] }, user.token);
    // A public address (TEST-NET would be refused as reserved): over http refused, over https accepted.
    const plain = await register('http://93.184.215.14/hook');
    expect([plain.status, plain.body.code]).toEqual([400, 'WEBHOOK_URL_REFUSED']);
    expect(String(plain.body.error)).toContain('https://');
    expect((await register('https://93.184.215.14/hook')).status).toBe(201);
    // An allowed host may use http (a private deployment's own receiver).
    expect((await register('http://127.0.0.1:9/hook')).status).toBe(201);
  });
});
