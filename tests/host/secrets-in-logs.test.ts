import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createGen3dClient } from '@gen3d/client';

import { followJob } from '../support/generation.js';
import { logLine, runTypeScript, type RunningProcess } from '../support/process.js';
import { callRest } from '../support/rest.js';
import { codeIn, resetTokenIn, startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

const PUBLIC_URL = 'https://gen3d.example.com';

let smtp: TestSmtpServer;
let server: RunningProcess;
let url: string;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  server = runTypeScript('server/src/main.ts', {
    NODE_ENV: 'development',
    PORT: '0',
    MODEL_SERVER_PORT: '0',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'gen3d-data-')),
    // Everything the server can say, so nothing escapes the check below.
    LOG_LEVEL: 'trace',
    SMTP_URL: smtp.url,
    PUBLIC_URL,
    AUTH_RATE_LIMIT_MAX: '1000',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    ...(process.env.MONGODB_URI ? { MONGODB_URI: process.env.MONGODB_URI } : {}),
  });
  const listening = await server.waitForLine((line) => logLine(line)?.msg === 'gen3d is listening');
  url = String(logLine(listening)?.address);
});

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  await smtp?.close();
});

/** POSTs JSON with a Host header of the caller's choosing (fetch does not let a caller set Host). */
function postWithHost(path: string, host: string, body: unknown): Promise<number> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      { method: 'POST', headers: { host, 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify(body));
  });
}

describe('secrets and the log', () => {
  it('builds reset links from PUBLIC_URL, never from the Host header of the request', async () => {
    const email = 'host-header@example.com';
    const password = 'quartz lantern over nine hills';
    await callRest(url, 'POST', '/auth/register', { email, userName: 'host', password });
    const code = codeIn(await smtp.waitForMail(email, /verification code/));
    expect((await callRest(url, 'POST', '/auth/register/verify', { email, code })).status).toBe(201);
    expect(await postWithHost('/api/auth/request-password-reset', 'evil.test', { email })).toBe(200);
    const mail = await smtp.waitForMail(email, /Reset your gen3d password/);
    expect(mail.text).toContain(`${PUBLIC_URL}/reset-password?token=`);
    expect(mail.text).not.toContain('evil.test');
  });

  it('never holds a password, token, API key, code, signature, reset link or webhook secret, at the most verbose level', async () => {
    const email = 'logged@example.com';
    const password = 'violet tractor ninety lanterns';
    const newPassword = 'amber comet under seven bridges';
    const secrets: string[] = [password, newPassword];
    await callRest(url, 'POST', '/auth/register', { email, userName: 'logged', password });
    const code = codeIn(await smtp.waitForMail(email, /verification code/));
    await callRest(url, 'POST', '/auth/register/verify', { email, code });

    const client = createGen3dClient({ url });
    const session = await client.login(email, password);
    secrets.push(session.token, session.refreshToken);
    const refreshed = await client.auth.refresh.mutate({ refreshToken: session.refreshToken });
    secrets.push(refreshed.token, refreshed.refreshToken);
    // A webhook endpoint's signing secret, and its deliveries signed with it.
    const receiver = await startWebhookReceiver();
    const hook = await callRest(
      url,
      'POST',
      '/webhooks',
      { url: `${receiver.url}/logged`, events: ['job.succeeded'] },
      refreshed.token,
    );
    expect(hook.status).toBe(201);
    secrets.push(String(hook.body.secret), String(hook.body.secret).slice('whsec_'.length));
    receiver.setSecret('/logged', String(hook.body.secret));
    const job = await createGen3dClient({
      url,
      headers: () => ({ authorization: `Bearer ${refreshed.token}` }),
    }).generation.create.mutate({ prompt: 'a logged cube' });
    const [finished] = (
      await followJob(
        createGen3dClient({ url, headers: () => ({ authorization: `Bearer ${refreshed.token}` }) }),
        job.id,
      )
    ).slice(-1);
    // Asset URLs are built from PUBLIC_URL; this server is reached at its own address.
    const assetUrl = new URL(String(finished?.outputs?.[0]?.url));
    const signature = assetUrl.searchParams.get('sig');
    expect(signature).toBeTruthy();
    secrets.push(String(signature));
    const [delivered] = await receiver.waitFor(
      (seen) => seen.some((arrival) => arrival.event.data.id === job.id),
      'the job.succeeded delivery',
    );
    expect(delivered?.verified).toBe(true);
    await receiver.close();
    expect((await fetch(new URL(`${assetUrl.pathname}${assetUrl.search}`, url))).status).toBe(200);

    const apiKey = await createGen3dClient({
      url,
      headers: () => ({ authorization: `Bearer ${refreshed.token}` }),
    }).apiKeys.create.mutate({ name: 'logged key', scopes: ['jobs:read'] });
    secrets.push(apiKey.key, apiKey.key.slice(apiKey.prefix.length + 1));
    expect(await createGen3dClient({ url, apiKey: apiKey.key }).jobs.list.query({})).not.toEqual([]);

    await callRest(url, 'POST', '/auth/request-password-reset', { email });
    const resetToken = resetTokenIn(await smtp.waitForMail(email, /Reset your gen3d password/));
    secrets.push(resetToken);
    expect(
      (await callRest(url, 'POST', '/auth/reset-password', { token: resetToken, newPassword })).status,
    ).toBe(200);
    await callRest(url, 'POST', '/auth/login', { email, password: newPassword });

    const log = `${server.lines.join('\n')}\n${server.stderr()}`;
    expect(log).toContain('"msg":"request completed"');
    for (const secret of secrets)
      expect(log, `a secret of ${secret.length} characters`).not.toContain(secret);
    // Six digits also occur inside timestamps and durations: the code counts only as a number of its own.
    expect(log).not.toMatch(new RegExp(`(?<![\\d.])${code}(?![\\d.])`));
  });
});
