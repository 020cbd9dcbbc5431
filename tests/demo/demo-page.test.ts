import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';

import { runAdminScript, signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { browserAvailable, useBrowser, warnWithoutBrowser } from '../support/browser.js';
import { useAdapterSuite } from '../support/contracts/adapter-suite.js';
import { startHunyuan3dServer } from '../support/contracts/hunyuan3d-server.js';
import { jpegWithGps } from '../support/images.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';
import { codeIn } from '../support/smtp.js';

warnWithoutBrowser('the demo page test');

describe.runIf(browserAvailable)('the demo page at /', () => {
  const suite = useTestServer({ mail: true, env: { AUTH_RATE_LIMIT_MAX: '1000' }, modelDurationMs: 600 });
  const browser = useBrowser(['--use-angle=swiftshader', '--enable-unsafe-swiftshader']);

  it(
    'registers with the emailed code, generates from a prompt with progress, and loads the model in 3D',
    { timeout: 240_000 },
    async () => {
      const page = await browser().newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await page.goto(suite.server.url);

      await page.fill('#register-form [name=email]', 'visitor@example.com');
      await page.fill('#register-form [name=userName]', 'Visitor');
      // A common password is refused, and the page says why in the server's words.
      await page.fill('#register-form [name=password]', 'password123');
      await page.click('#register-form button');
      await page.waitForFunction(() =>
        document.querySelector('#notice')?.textContent?.includes('commonly used password'),
      );
      // The browser reports the refused request itself; nothing else may have gone wrong.
      expect(problems).toEqual([
        'Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ]);
      problems.length = 0;
      await page.fill('#register-form [name=password]', 'visitor password 1');
      await page.click('#register-form button');
      const code = codeIn(await suite.smtp.waitForMail('visitor@example.com', /verification code/));
      await page.fill('#verify-form [name=code]', code);
      await page.click('#verify-form button');
      await page.waitForSelector('#studio:not([hidden])');

      await page.fill('#prompt-form [name=prompt]', 'a red cube on a blue sphere');
      await page.click('#prompt-form button');
      await page.waitForFunction(
        () => document.querySelector('#job-status')?.textContent?.startsWith('running'),
        undefined,
        { timeout: 90_000 },
      );
      // <model-viewer> reports `loaded` once the GLB is fetched and parsed.
      await page.waitForFunction(
        () => (document.querySelector('#viewer') as (Element & { loaded?: boolean }) | null)?.loaded === true,
        undefined,
        { timeout: 120_000 },
      );
      expect(await page.textContent('#job-status')).toBe('succeeded 100%');
      expect(await page.$$eval('#downloads a', (links) => links.map((link) => link.textContent))).toEqual(
        expect.arrayContaining(['GLB', 'OBJ', 'MTL', 'PLY']),
      );
      expect(problems).toEqual([]);

      // A reload keeps the session (tokens in localStorage).
      await page.reload();
      await page.waitForSelector('#studio:not([hidden])');
      await page.close();
    },
  );

  it(
    'generates with a pasted API key, after saying why a revoked one is refused',
    { timeout: 180_000 },
    async () => {
      const owner = await signInNewAdmin(suite.server, 'key-owner@example.com');
      const create = (name: string) =>
        callRest(
          suite.server.url,
          'POST',
          '/keys',
          { name, scopes: ['jobs:read', 'jobs:write'] },
          owner.token,
        );
      const revoked = await create('revoked');
      await callRest(suite.server.url, 'DELETE', `/keys/${String(revoked.body.id)}`, undefined, owner.token);
      const usable = await create('demo page');
      expect(usable.status).toBe(201);

      const page = await browser().newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(suite.server.url);
      await page.fill('#key-form [name=apiKey]', String(revoked.body.key));
      await page.click('#key-form button');
      await page.waitForFunction(() => document.querySelector('#notice')?.textContent?.includes('invalid'));
      expect(await page.isHidden('#studio')).toBe(true);

      await page.fill('#key-form [name=apiKey]', String(usable.body.key));
      await page.click('#key-form button');
      await page.waitForSelector('#studio:not([hidden])');
      await page.fill('#prompt-form [name=prompt]', 'a teapot made with a key');
      await page.click('#prompt-form button');
      await page.waitForFunction(
        () => document.querySelector('#job-status')?.textContent === 'succeeded 100%',
        undefined,
        {
          timeout: 120_000,
        },
      );
      expect(await page.$$eval('#downloads a', (links) => links.map((link) => link.textContent))).toEqual(
        expect.arrayContaining(['GLB']),
      );
      // The key is never stored by the page: a reload asks again.
      expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain('g3d_');
      await page.reload();
      await page.waitForSelector('#key-form');
      expect(await page.isHidden('#studio')).toBe(true);
      expect(problems).toEqual([]);
      await page.close();
    },
  );
});

describe.runIf(browserAvailable)('the demo page at another name of the same server', () => {
  const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' }, modelDurationMs: 200 });
  const browser = useBrowser(['--use-angle=swiftshader', '--enable-unsafe-swiftshader']);

  /** Generates from the page's form; resolves once `settled` holds on the page. */
  async function generateOn(page: Page, prompt: string, settled: () => boolean): Promise<void> {
    await page.fill('#prompt-form [name=prompt]', prompt);
    await page.click('#prompt-form button');
    await page.waitForFunction(settled, undefined, { timeout: 120_000 });
  }

  it(
    'loads the model at localhost as at 127.0.0.1, and says so when a model cannot load',
    { timeout: 240_000 },
    async () => {
      const admin = await signInNewAdmin(suite.server);
      const user = await signInNewUser(suite.server, admin, 'viewer@example.com');
      const page = await browser().newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(suite.server.url.replace('127.0.0.1', 'localhost'));
      await page.fill('#login-form [name=email]', user.email);
      await page.fill('#login-form [name=password]', 'user password 1');
      await page.click('#login-form button');
      await page.waitForSelector('#studio:not([hidden])');

      await generateOn(
        page,
        'a green cone',
        // Loaded, and the "Loading the model…" line cleared by the viewer's load event.
        () =>
          (document.querySelector('#viewer') as (Element & { loaded?: boolean }) | null)?.loaded === true &&
          document.querySelector('#viewer-status')?.textContent === '',
      );
      expect(await page.textContent('#viewer-status')).toBe('');

      // The model's file does not arrive (a network failure): the viewer says so instead of staying blank.
      await page.route('**/assets/**', (route) => route.abort('connectionreset'));
      await generateOn(
        page,
        'a yellow torus',
        () =>
          document.querySelector('#viewer-status')?.textContent?.startsWith('The 3D view could not') === true,
      );
      expect(await page.textContent('#viewer-status')).toMatch(
        /^The 3D view could not load the model.*The download links below still work\.$/,
      );
      expect(problems).toEqual([]);
      await page.close();
    },
  );
});

describe.runIf(browserAvailable)('Swagger UI at /api-docs', () => {
  const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' } });
  const browser = useBrowser([]);

  it(
    'logs in with "Try it out" and then calls a protected route with the token',
    { timeout: 180_000 },
    async () => {
      expect(
        (
          await runAdminScript(suite.server, 'create-admin', [
            '--email',
            'docs@example.com',
            '--password',
            'docs password 1',
          ])
        ).code,
      ).toBe(0);
      const page = await browser().newPage();
      await page.goto(`${suite.server.url}/api-docs`);
      const operation = async (id: string, body?: string): Promise<string> => {
        const block = page.locator(`#operations-${id}`);
        await block.locator('.opblock-summary').click();
        await block.locator('button.try-out__btn').click();
        if (body !== undefined) await block.locator('textarea.body-param__text').fill(body);
        await block.locator('button.execute').click();
        const status = block.locator('.live-responses-table tr.response .response-col_status').first();
        await status.waitFor();
        return (await status.textContent())?.trim() ?? '';
      };
      expect(
        await operation(
          'auth-auth-login',
          JSON.stringify({ email: 'docs@example.com', password: 'docs password 1' }),
        ),
      ).toBe('200');
      expect(await operation('auth-auth-me')).toBe('200');
      await page.close();
    },
  );
});

describe.runIf(browserAvailable)('the demo page with an image', () => {
  const suite = useAdapterSuite(startHunyuan3dServer, (hunyuan) => ({ HUNYUAN3D_URL: hunyuan.url }));
  const browser = useBrowser(['--use-angle=swiftshader', '--enable-unsafe-swiftshader']);

  it('previews the chosen image, uploads it and makes a model from it', { timeout: 180_000 }, async () => {
    const key = await callRest(
      suite.server.url,
      'POST',
      '/keys',
      { name: 'image demo', scopes: ['jobs:read', 'jobs:write', 'assets:write'] },
      suite.user.token,
    );
    expect(key.status).toBe(201);
    const page = await browser().newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(suite.server.url);
    await page.fill('#key-form [name=apiKey]', String(key.body.key));
    await page.click('#key-form button');
    await page.waitForSelector('#studio:not([hidden])');

    const photo = await jpegWithGps(64, 32);
    await page.setInputFiles('#image-input', { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.waitForFunction(
      () => ((document.querySelector('#image-preview') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0,
    );
    expect(await page.isHidden('#image-preview')).toBe(false);
    await page.fill('#prompt-form [name=modelServer]', 'hunyuan3d');
    await page.click('#prompt-form button');
    await page.waitForFunction(
      () => document.querySelector('#job-status')?.textContent === 'succeeded 100%',
      undefined,
      {
        timeout: 120_000,
      },
    );
    expect(await page.$$eval('#downloads a', (links) => links.map((link) => link.textContent))).toEqual(
      expect.arrayContaining(['GLB']),
    );
    // The page sent the image alone; the server kept it re-encoded, and Hunyuan3D-2 got that copy.
    const jobs = (await callRest(suite.server.url, 'GET', '/jobs', undefined, suite.user.token))
      .body as unknown as TJob[];
    expect(jobs[0]).toMatchObject({ inputType: 'image', prompt: '', status: 'succeeded' });
    expect(suite.double.images).toHaveLength(1);
    expect(problems).toEqual([]);
    await page.close();
  });
});
