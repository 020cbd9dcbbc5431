import { describe, expect, it } from 'vitest';

import { STRONG_PASSWORD } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';
import { codeIn } from '../support/smtp.js';

const suite = useTestServer({ mail: true, env: { AUTH_RATE_LIMIT_MAX: '1000' } });

async function registered(email: string): Promise<string> {
  const answer = await callRest(suite.server.url, 'POST', '/auth/register', {
    email,
    userName: 'coder',
    password: STRONG_PASSWORD,
  });
  expect(answer.status).toBe(200);
  return codeIn(await suite.smtp.waitForMail(email, /verification code/));
}

const verify = (email: string, code: string) =>
  callRest(suite.server.url, 'POST', '/auth/register/verify', { email, code });

const pendingRegistrations = () => suite.server.app.database.connection.collection('pendingregistrations');

describe('verification codes (checklist 9)', () => {
  it('are 6 digits, stored only as a keyed hash, and work once', async () => {
    const email = 'once@example.com';
    const code = await registered(email);
    expect(code).toMatch(/^\d{6}$/);
    const stored = JSON.stringify(await pendingRegistrations().findOne({ email }));
    expect(stored).not.toContain(code);
    expect((await verify(email, code)).status).toBe(201);
    const again = await verify(email, code);
    expect([again.status, again.body.code]).toEqual([400, 'INVALID_CODE']);
  });

  it('die at the end of their lifetime (15 minutes), the right code included', async () => {
    const email = 'late@example.com';
    const code = await registered(email);
    const pending = await pendingRegistrations().findOne({ email });
    expect((pending?.codeExpiresAt as Date).getTime()).toBeLessThanOrEqual(Date.now() + 15 * 60 * 1000);
    // The clock cannot be moved here, so the code's expiry is: it is now past its lifetime.
    await pendingRegistrations().updateOne(
      { email },
      { $set: { codeExpiresAt: new Date(Date.now() - 1000) } },
    );
    const late = await verify(email, code);
    expect([late.status, late.body.code]).toEqual([400, 'INVALID_CODE']);
  });
});
