import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { browserAvailable, useBrowser, warnWithoutBrowser } from '../support/browser.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { clientFor, followJob } from '../support/generation.js';
import { startHeldModelServer, type HeldModelServer } from '../support/held-model-server.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

warnWithoutBrowser('the demo page queue test');

describe.runIf(browserAvailable)('the demo page while a job waits', () => {
  let database: TestDatabase;
  let held: HeldModelServer;
  let server: TestServer;
  let admin: SignedIn;
  const browser = useBrowser(['--use-angle=swiftshader', '--enable-unsafe-swiftshader']);

  beforeAll(async () => {
    database = await startTestDatabase();
    held = await startHeldModelServer();
    // One worker: a held job keeps everyone else waiting.
    server = await startTestServer(database, {
      env: {
        MODEL_SERVER_URL: held.url,
        WORKER_CONCURRENCY: '1',
        AUTH_RATE_LIMIT_MAX: '1000',
        MODEL_SERVER_POLL_INTERVAL_MS: '20',
      },
    });
    admin = await signInNewAdmin(server);
  });

  afterAll(async () => {
    await server?.close();
    await held?.close();
    await database?.stop();
  });

  it('shows the queue position and the estimates, then the progress', { timeout: 180_000 }, async () => {
    const other = await signInNewUser(server, admin, 'other@example.com');
    const visitor = await signInNewUser(server, admin, 'visitor@example.com');
    const queue = async (prompt: string): Promise<string> => {
      const created = await callRest(server.url, 'POST', '/jobs', { prompt }, other.token);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return String(created.body.id);
    };
    // One job succeeds first: a run time to estimate from.
    const warmUp = await queue('a warm-up cube');
    await held.nextStarted(0);
    held.release('a warm-up cube');
    expect((await followJob(clientFor(server, other), warmUp)).at(-1)?.status).toBe('succeeded');
    // Then the only worker is kept busy.
    await queue('a blocking sphere');
    await held.nextStarted(1);

    const page = await browser().newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(server.url);
    await page.fill('#login-form [name=email]', visitor.email);
    await page.fill('#login-form [name=password]', 'user password 1');
    await page.click('#login-form button');
    await page.waitForSelector('#studio:not([hidden])');
    await page.fill('#prompt-form [name=prompt]', 'a waiting cone');
    await page.click('#prompt-form button');

    await page.waitForFunction(
      () => document.querySelector('#job-queue')?.textContent?.startsWith('Next in the queue'),
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.textContent('#job-queue')).toMatch(
      /^Next in the queue · starts in about (now|\d+ s) · ready in about (now|\d+ s)$/,
    );
    expect(await page.textContent('#job-status')).toBe('queued 0%');

    held.release('a blocking sphere');
    expect(await held.nextStarted(2)).toBe('a waiting cone');
    await page.waitForFunction(() =>
      document.querySelector('#job-status')?.textContent?.startsWith('running'),
    );
    expect(await page.textContent('#job-queue')).toMatch(/^Ready in about (now|\d+ s)$/);
    held.release('a waiting cone');
    await page.waitForFunction(
      () => document.querySelector('#job-status')?.textContent === 'succeeded 100%',
      undefined,
      {
        timeout: 60_000,
      },
    );
    expect(await page.textContent('#job-queue')).toBe('');
    expect(problems).toEqual([]);
    await page.close();
  });
});
