import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  databaseUri,
  startTestDatabase,
  uniqueDatabaseName,
  type TestDatabase,
} from '../support/database.js';
import { logLine, runTypeScript, type RunningProcess } from '../support/process.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const MAIN = 'server/src/main.ts';

let database: TestDatabase;
let smtp: TestSmtpServer;

beforeAll(async () => {
  database = await startTestDatabase();
  smtp = await startTestSmtpServer();
});

afterAll(async () => {
  await smtp?.close();
  await database?.stop();
});

/** Everything production asks for except a mail transport. */
function productionEnv(dataDir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: '0',
    MODEL_SERVER_PORT: '0',
    DATA_DIR: dataDir,
    MONGODB_URI: databaseUri(database, uniqueDatabaseName('mail')),
    JWT_SECRET: 'a-production-secret-that-is-long-enough-0123456789',
    CORS_ORIGINS: 'https://app.example.com',
    METRICS_TOKEN: 'a-metrics-token-for-the-test-0123',
  };
}

async function listeningUrl(server: RunningProcess): Promise<string> {
  const line = await server.waitForLine((candidate) => logLine(candidate)?.msg === 'gen3d is listening');
  return String(logLine(line)?.address);
}

async function stop(server: RunningProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect((await server.exited).code, server.output()).toBe(0);
}

async function register(url: string, email: string): Promise<number> {
  const response = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, userName: 'Mail Test', password: 'mail password 1' }),
  });
  return response.status;
}

describe('mail in production (issue 15 item 15)', () => {
  it('refuses to start in production without SMTP_URL, naming it and the setting that allows the outbox', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-mail-'));
    const server = runTypeScript(MAIN, productionEnv(dataDir));
    expect((await server.exited).code).toBe(1);
    expect(server.stderr()).toContain('SMTP_URL: required in production');
    expect(server.stderr()).toContain('MAIL_OUTBOX_IN_PRODUCTION=true');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('starts with MAIL_OUTBOX_IN_PRODUCTION=true and writes mail to the outbox, as the operator chose', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-mail-'));
    const server = runTypeScript(MAIN, { ...productionEnv(dataDir), MAIL_OUTBOX_IN_PRODUCTION: 'true' });
    try {
      const url = await listeningUrl(server);
      expect(await register(url, 'outbox@example.com')).toBe(200);
      await server.waitForLine((line) => String(logLine(line)?.msg).startsWith('mail written to the outbox'));
      const [file, ...others] = readdirSync(join(dataDir, 'outbox'));
      expect(others).toEqual([]);
      expect(readFileSync(join(dataDir, 'outbox', String(file)), 'utf8')).toContain('outbox@example.com');
    } finally {
      await stop(server);
    }
  });

  it('starts with SMTP_URL and sends the mail, writing no outbox', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-mail-'));
    const server = runTypeScript(MAIN, { ...productionEnv(dataDir), SMTP_URL: smtp.url });
    try {
      const url = await listeningUrl(server);
      expect(await register(url, 'smtp@example.com')).toBe(200);
      await smtp.waitForMail('smtp@example.com', /./);
      expect(readdirSync(dataDir)).not.toContain('outbox');
    } finally {
      await stop(server);
    }
  });
});
