import { describe, expect, it } from 'vitest';

import { createGen3dClient, isGen3dError } from '@gen3d/client';

import { STRONG_PASSWORD } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer, type SuiteServer } from '../support/server.js';
import { codeIn, resetTokenIn } from '../support/smtp.js';

/**
 * Per-window limits far above the lock threshold, so every refusal here is the lock's. Codes are re-sent
 * at once (no email cooldown) so a re-send can be tried.
 */
const RELAXED = {
  AUTH_RATE_LIMIT_MAX: '100000',
  AUTH_RATE_LIMIT_IP_MAX: '100000',
  TRUST_PROXY: '127.0.0.1',
  AUTH_EMAIL_COOLDOWN_MS: '0',
};
/** NIST's ceiling: at most 100 consecutive failures. */
const nist = useTestServer({ mail: true, env: { ...RELAXED, LOCKOUT_THRESHOLD: '100' } });
const strict = useTestServer({ mail: true, env: { ...RELAXED, LOCKOUT_THRESHOLD: '3' } });

const CODE_MAIL = /verification code/;
let counter = 0;
const freshEmail = (label: string): string => `${label}-${(counter += 1)}-${Date.now()}@example.com`;

/** Registers and verifies an account on the suite's server. */
async function account(suite: SuiteServer, label: string): Promise<{ email: string; password: string }> {
  const email = freshEmail(label);
  const since = suite.smtp.received.length;
  const body = { email, userName: 'Owner', password: STRONG_PASSWORD };
  expect((await callRest(suite.server.url, 'POST', '/auth/register', body)).status).toBe(200);
  const code = codeIn(await suite.smtp.waitForMail(email, CODE_MAIL, undefined, since));
  expect((await callRest(suite.server.url, 'POST', '/auth/register/verify', { email, code })).status).toBe(
    201,
  );
  return { email, password: STRONG_PASSWORD };
}

/** A login over REST from a chosen client address. */
async function loginFrom(suite: SuiteServer, address: string, email: string, password: string) {
  const response = await fetch(`${suite.server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify({ email, password }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** The code a failed SDK call rejected with ('OK' when it succeeded). */
async function sdkOutcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    if (!isGen3dError(error)) throw error;
    return error.code;
  }
}

describe('consecutive wrong passwords lock the account across windows and addresses (checklist 6)', () => {
  it('refuses the right password after 100 wrong ones from 50 addresses over REST and tRPC, until a reset', async () => {
    const { email, password } = await account(nist, 'nist');
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const address = `198.51.100.${attempt % 50}`;
      if (attempt % 2 === 0) {
        expect((await loginFrom(nist, address, email, `wrong guess ${attempt}`)).status).toBe(401);
      } else {
        const client = createGen3dClient({
          url: nist.server.url,
          headers: () => ({ 'x-forwarded-for': address }),
        });
        expect(await sdkOutcome(client.login(email, `wrong guess ${attempt}`))).toBe('INVALID_CREDENTIALS');
      }
    }
    const refused = await loginFrom(nist, '192.0.2.200', email, password);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('ACCOUNT_LOCKED');
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    const client = createGen3dClient({ url: nist.server.url });
    expect(await sdkOutcome(client.login(email, password))).toBe('ACCOUNT_LOCKED');

    // A password reset proves the email and unlocks logins.
    const since = nist.smtp.received.length;
    expect((await callRest(nist.server.url, 'POST', '/auth/request-password-reset', { email })).status).toBe(
      200,
    );
    const token = resetTokenIn(await nist.smtp.waitForMail(email, /Reset your/, undefined, since));
    const newPassword = 'a brand new passphrase';
    const reset = await callRest(nist.server.url, 'POST', '/auth/reset-password', { token, newPassword });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect((await loginFrom(nist, '192.0.2.201', email, newPassword)).status).toBe(200);
  });

  it('locks an unknown email exactly like an existing one', async () => {
    const { email } = await account(strict, 'known');
    const unknown = freshEmail('unknown');
    const answers = { known: [] as unknown[], unknown: [] as unknown[] };
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const known = await loginFrom(strict, '192.0.2.10', email, 'not the password');
      const other = await loginFrom(strict, '192.0.2.10', unknown, 'not the password');
      answers.known.push([known.status, known.body.code, known.body.error]);
      answers.unknown.push([other.status, other.body.code, other.body.error]);
    }
    expect(answers.unknown).toEqual(answers.known);
    expect(answers.known.map((answer) => (answer as unknown[])[0])).toEqual([401, 401, 401, 429, 429]);
  });

  it('counts concurrent wrong passwords before judging them', async () => {
    const { email, password } = await account(strict, 'burst');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, attempt) =>
        loginFrom(strict, `192.0.2.${attempt}`, email, `burst ${attempt}`),
      ),
    );
    const judged = answers.filter((answer) => answer.status === 401);
    expect(judged.length).toBeLessThanOrEqual(3);
    expect(answers.filter((answer) => answer.body.code === 'ACCOUNT_LOCKED')).toHaveLength(
      20 - judged.length,
    );
    expect((await loginFrom(strict, '192.0.2.99', email, password)).status).toBe(429);
  });

  it('shares the lock between change-password and login (checklist 7)', async () => {
    const { email, password } = await account(strict, 'changer');
    const session = await loginFrom(strict, '192.0.2.30', email, password);
    const token = String(session.body.token);
    expect((await loginFrom(strict, '192.0.2.30', email, 'wrong once')).status).toBe(401);
    const change = (currentPassword: string) =>
      callRest(
        strict.server.url,
        'POST',
        '/auth/change-password',
        { currentPassword, newPassword: 'another strong passphrase' },
        token,
      );
    expect((await change('wrong twice')).status).toBe(401);
    const client = createGen3dClient({
      url: strict.server.url,
      headers: () => ({ authorization: `Bearer ${token}` }),
    });
    expect(
      await sdkOutcome(
        client.auth.changePassword.mutate({
          currentPassword: 'wrong thrice',
          newPassword: 'another strong passphrase',
        }),
      ),
    ).toBe('INVALID_CREDENTIALS');
    const locked = await change(password);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('ACCOUNT_LOCKED');
    expect((await loginFrom(strict, '192.0.2.31', email, password)).status).toBe(429);
  });
});

describe('wrong verification codes are capped per registration, across re-sends (checklist 10)', () => {
  async function pending(label: string): Promise<{ email: string; code: string; wrong: string }> {
    const email = freshEmail(label);
    const since = strict.smtp.received.length;
    const body = { email, userName: 'Coder', password: STRONG_PASSWORD };
    expect((await callRest(strict.server.url, 'POST', '/auth/register', body)).status).toBe(200);
    const code = codeIn(await strict.smtp.waitForMail(email, CODE_MAIL, undefined, since));
    return { email, code, wrong: code === '000000' ? '111111' : '000000' };
  }
  const verify = (email: string, code: string) =>
    callRest(strict.server.url, 'POST', '/auth/register/verify', { email, code });

  it('judges at most 5 of 20 concurrent wrong codes, and the right code fails afterwards (REST and tRPC)', async () => {
    const { email, code, wrong } = await pending('burst');
    const client = createGen3dClient({ url: strict.server.url });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, attempt) =>
        attempt % 2 === 0
          ? verify(email, wrong).then((answer) => String(answer.body.code))
          : sdkOutcome(client.auth.verifyRegistration.mutate({ email, code: wrong })),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'INVALID_CODE').length).toBeLessThanOrEqual(5);
    expect(
      outcomes
        .filter((outcome) => outcome !== 'INVALID_CODE')
        .every((outcome) => outcome === 'ACCOUNT_LOCKED'),
    ).toBe(true);
    const late = await verify(email, code);
    expect(late.status).toBe(429);
    expect(late.body.code).toBe('ACCOUNT_LOCKED');
  });

  it('keeps counting wrong codes when a new code is sent', async () => {
    const { email, wrong } = await pending('resend');
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await verify(email, wrong)).status).toBe(400);
    const since = strict.smtp.received.length;
    const again = { email, userName: 'Coder', password: STRONG_PASSWORD };
    expect((await callRest(strict.server.url, 'POST', '/auth/register', again)).status).toBe(200);
    const fresh = codeIn(await strict.smtp.waitForMail(email, CODE_MAIL, undefined, since));
    const otherWrong = fresh === '222222' ? '333333' : '222222';
    for (let attempt = 0; attempt < 2; attempt += 1)
      expect((await verify(email, otherWrong)).status).toBe(400);
    // Five wrong codes in all: the new, right code meets the lock.
    const locked = await verify(email, fresh);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('ACCOUNT_LOCKED');
  });
});
