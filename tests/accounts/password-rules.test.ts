import { beforeAll, describe, expect, it } from 'vitest';

import { createGen3dClient, isGen3dError } from '@gen3d/client';

import {
  logIn,
  runAdminScript,
  signInNewAdmin,
  STRONG_PASSWORD,
  type SignedIn,
} from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';
import { codeIn, resetTokenIn } from '../support/smtp.js';

/** Reset links are sent at once (no email cooldown), so one account can hold several. */
const suite = useTestServer({
  mail: true,
  env: { AUTH_RATE_LIMIT_MAX: '100000', AUTH_RATE_LIMIT_IP_MAX: '100000', AUTH_EMAIL_COOLDOWN_MS: '0' },
});
let admin: SignedIn;

beforeAll(async () => {
  admin = await signInNewAdmin(suite.server);
});

/** 128 characters: the longest password the limits must allow is at least this. */
const LONGEST =
  'Sixty-four characters of ordinary words, commas and a final dot: done. Plus more words to reach 128 characters, which is plenty.';

let counter = 0;
const freshEmail = (label: string): string => `${label}-${(counter += 1)}-${Date.now()}@example.com`;
const register = (email: string, password: string, userName = 'Ada') =>
  callRest(suite.server.url, 'POST', '/auth/register', { email, userName, password });

/** The code and message an SDK call rejected with. */
async function sdkError(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call;
  } catch (error) {
    if (isGen3dError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the call succeeded');
}

/** A verified account made through registration. */
async function account(label: string): Promise<{ email: string; password: string }> {
  const email = freshEmail(label);
  const since = suite.smtp.received.length;
  expect((await register(email, STRONG_PASSWORD)).status).toBe(200);
  const code = codeIn(await suite.smtp.waitForMail(email, /verification code/, undefined, since));
  expect((await callRest(suite.server.url, 'POST', '/auth/register/verify', { email, code })).status).toBe(
    201,
  );
  return { email, password: STRONG_PASSWORD };
}

async function resetLink(email: string): Promise<string> {
  const since = suite.smtp.received.length;
  expect((await callRest(suite.server.url, 'POST', '/auth/request-password-reset', { email })).status).toBe(
    200,
  );
  return resetTokenIn(await suite.smtp.waitForMail(email, /Reset your/, undefined, since));
}

describe('new passwords are checked against common and breached passwords (checklist 3, 4)', () => {
  it('refuses password123 at registration with WEAK_PASSWORD and the reason (REST and tRPC)', async () => {
    const refused = await register(freshEmail('weak'), 'password123');
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('WEAK_PASSWORD');
    expect(String(refused.body.error)).toMatch(/commonly used password/);
    const client = createGen3dClient({ url: suite.server.url });
    const viaSdk = await sdkError(
      client.auth.register.mutate({ email: freshEmail('weak'), userName: 'Ada', password: 'abcd1234' }),
    );
    expect(viaSdk.code).toBe('WEAK_PASSWORD');
    expect(viaSdk.message).toMatch(/too easy to guess/);
  });

  it('refuses a password made of the account’s own email or name', async () => {
    const email = freshEmail('marguerite');
    const refused = await register(email, email.split('@')[0] as string, 'Marguerite');
    expect(refused.body.code).toBe('WEAK_PASSWORD');
    expect(String(refused.body.error)).toMatch(/personal/);
  });

  it('accepts 8 random characters and long passphrases, with no composition rules; refuses 7 characters', async () => {
    expect((await register(freshEmail('short'), 'k3Jd9sQ')).body.code).toBe('VALIDATION_FAILED');
    for (const password of ['k3Jd9sQz', 'all lower case words make a fine passphrase', LONGEST])
      expect((await register(freshEmail('ok'), password)).status, password).toBe(200);
  });

  it('checks reset, change-password, admin-created users and the create-admin script too', async () => {
    const { email, password } = await account('changer');
    const token = await resetLink(email);
    const weakReset = await callRest(suite.server.url, 'POST', '/auth/reset-password', {
      token,
      newPassword: 'password1',
    });
    expect(weakReset.body.code).toBe('WEAK_PASSWORD');
    // The refused attempt did not spend the link.
    const strongReset = await callRest(suite.server.url, 'POST', '/auth/reset-password', {
      token,
      newPassword: 'a different passphrase',
    });
    expect(strongReset.status, JSON.stringify(strongReset.body)).toBe(200);

    const session = await logIn(suite.server, email, 'a different passphrase');
    const client = createGen3dClient({
      url: suite.server.url,
      headers: () => ({ authorization: `Bearer ${session.token}` }),
    });
    const weakChange = await sdkError(
      client.auth.changePassword.mutate({
        currentPassword: 'a different passphrase',
        newPassword: 'qwerty123',
      }),
    );
    expect(weakChange.code).toBe('WEAK_PASSWORD');
    expect((await callRest(suite.server.url, 'POST', '/auth/login', { email, password })).status).toBe(401);

    const created = await callRest(
      suite.server.url,
      'POST',
      '/users',
      { email: freshEmail('made'), userName: 'Made', password: 'iloveyou1' },
      admin.token,
    );
    expect(created.status).toBe(400);
    expect(created.body.code).toBe('WEAK_PASSWORD');

    const script = await runAdminScript(suite.server, 'create-admin', [
      '--email',
      freshEmail('script'),
      '--password',
      'password123',
    ]);
    expect(script.code).toBe(1);
    expect(script.output).toMatch(/too easy to guess/);
  });
});

describe('outstanding reset links end when the password is set (checklist 12)', () => {
  it('ends the other links when one is used (REST and tRPC)', async () => {
    const { email } = await account('two-links');
    const first = await resetLink(email);
    const second = await resetLink(email);
    expect(first).not.toBe(second);
    const client = createGen3dClient({ url: suite.server.url });
    await expect(
      client.auth.resetPassword.mutate({ token: second, newPassword: 'the second link passphrase' }),
    ).resolves.toMatchObject({ ok: true });
    const stale = await callRest(suite.server.url, 'POST', '/auth/reset-password', {
      token: first,
      newPassword: 'the first link passphrase',
    });
    expect(stale.status).toBe(401);
    expect(stale.body.code).toBe('INVALID_TOKEN');
    await logIn(suite.server, email, 'the second link passphrase');
  });

  it('ends every link when the password is changed', async () => {
    const { email, password } = await account('changed');
    const link = await resetLink(email);
    const session = await logIn(suite.server, email, password);
    const changed = await callRest(
      suite.server.url,
      'POST',
      '/auth/change-password',
      { currentPassword: password, newPassword: 'changed on purpose today' },
      session.token,
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    const client = createGen3dClient({ url: suite.server.url });
    const stale = await sdkError(
      client.auth.resetPassword.mutate({ token: link, newPassword: 'an attacker passphrase' }),
    );
    expect(stale.code).toBe('INVALID_TOKEN');
    await logIn(suite.server, email, 'changed on purpose today');
  });
});
