import { describe, expect, it } from 'vitest';

import { createGen3dClient, isGen3dError } from '@gen3d/client';

import { STRONG_PASSWORD } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';
import { codeIn } from '../support/smtp.js';
import { median, sameWorkTolerance, timed } from '../support/timing.js';

/** High per-window limits, so the answers tested are the registration's own, not the rate limiter's. */
const suite = useTestServer({
  mail: true,
  env: { AUTH_RATE_LIMIT_MAX: '1000', AUTH_RATE_LIMIT_IP_MAX: '100000', TRUST_PROXY: '127.0.0.1' },
});

/** A second server on the same database that re-sends codes at once, for the takeover attempt. */
const eager = useTestServer({
  mail: true,
  env: { AUTH_RATE_LIMIT_MAX: '1000', AUTH_EMAIL_COOLDOWN_MS: '0' },
});

const CODE_MAIL = /verification code/;
const NOTICE_MAIL = /Someone tried to register/;
const RESET_MAIL = /Reset your gen3d password/;

let counter = 0;
const freshEmail = (label: string): string => `${label}-${(counter += 1)}-${Date.now()}@example.com`;

interface Answer {
  status: number;
  body: unknown;
}

async function registerRest(email: string, password = STRONG_PASSWORD, userName = 'Ada'): Promise<Answer> {
  const { status, body } = await callRest(suite.server.url, 'POST', '/auth/register', {
    email,
    userName,
    password,
  });
  return { status, body };
}

/** The same call through the SDK: the answer's status, and the body or the error's code and message. */
async function registerTrpc(email: string, password = STRONG_PASSWORD): Promise<Answer> {
  const client = createGen3dClient({ url: suite.server.url });
  try {
    return { status: 200, body: await client.auth.register.mutate({ email, userName: 'Ada', password }) };
  } catch (error) {
    if (!isGen3dError(error)) throw error;
    return { status: error.status ?? 0, body: { code: error.code, message: error.message } };
  }
}

/** A verified account made through the registration, so it is an "existing email". */
async function existingAccount(): Promise<string> {
  const email = freshEmail('existing');
  const since = suite.smtp.received.length;
  expect((await registerRest(email)).status).toBe(200);
  const code = codeIn(await suite.smtp.waitForMail(email, CODE_MAIL, undefined, since));
  const verified = await callRest(suite.server.url, 'POST', '/auth/register/verify', { email, code });
  expect(verified.status, JSON.stringify(verified.body)).toBe(201);
  return email;
}

describe('a pending registration cannot be taken over (checklist 11)', () => {
  it('keeps the first password when the same email registers again before verifying (REST, then tRPC)', async () => {
    const email = freshEmail('pending');
    const url = eager.server.url;
    const first = await callRest(url, 'POST', '/auth/register', {
      email,
      userName: 'Owner',
      password: 'owner chose this passphrase',
    });
    expect(first.status).toBe(200);
    const firstMail = await eager.smtp.waitForMail(email, CODE_MAIL);
    const since = eager.smtp.received.indexOf(firstMail) + 1;
    // The attacker registers the same address with their own password and name, over tRPC.
    const attacker = createGen3dClient({ url });
    await expect(
      attacker.auth.register.mutate({ email, userName: 'Mallory', password: 'attacker passphrase 9' }),
    ).resolves.toMatchObject({ ok: true });
    // The owner gets a new code for their own registration and enters the newest one.
    const code = codeIn(await eager.smtp.waitForMail(email, CODE_MAIL, undefined, since));
    const verified = await callRest(url, 'POST', '/auth/register/verify', { email, code });
    expect(verified.status, JSON.stringify(verified.body)).toBe(201);
    expect(verified.body).toMatchObject({ user: { email, userName: 'Owner' } });
    const asAttacker = await callRest(url, 'POST', '/auth/login', {
      email,
      password: 'attacker passphrase 9',
    });
    expect(asAttacker.status).toBe(401);
    const asOwner = await callRest(url, 'POST', '/auth/login', {
      email,
      password: 'owner chose this passphrase',
    });
    expect(asOwner.status).toBe(200);
  });
});

describe('registration and reset requests do not reveal accounts (checklist 2)', () => {
  it('answers repeated registrations of an existing and an unknown email with the same statuses and bodies (REST and tRPC)', async () => {
    const existing = await existingAccount();
    const unknown = freshEmail('unknown');
    const existingRest = [];
    const unknownRest = [];
    for (let call = 0; call < 3; call += 1) {
      existingRest.push(await registerRest(existing));
      unknownRest.push(await registerRest(unknown));
    }
    expect(unknownRest).toEqual(existingRest);
    expect(existingRest.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const existingTrpc = [];
    const unknownTrpc = [];
    const otherUnknown = freshEmail('unknown-trpc');
    for (let call = 0; call < 3; call += 1) {
      existingTrpc.push(await registerTrpc(existing));
      unknownTrpc.push(await registerTrpc(otherUnknown));
    }
    expect(unknownTrpc).toEqual(existingTrpc);
    expect(existingTrpc.map((answer) => answer.status)).toEqual([200, 200, 200]);
  });

  it('sends at most one code or notice per address within the cooldown, answering alike meanwhile', async () => {
    const existing = await existingAccount();
    const unknown = freshEmail('quiet');
    for (let call = 0; call < 4; call += 1) {
      expect((await registerRest(existing)).status).toBe(200);
      expect((await registerRest(unknown)).status).toBe(200);
    }
    // Registration mail is sent before the answer, so the counts are final here.
    expect(suite.smtp.countMail(existing, NOTICE_MAIL)).toBe(1);
    expect(suite.smtp.countMail(unknown, CODE_MAIL)).toBe(1);
  });

  it('takes the same time for an existing and an unknown email, registering and asking for a reset', async () => {
    const existing = await existingAccount();
    const unknown = freshEmail('timing');
    const samples = { register: { existing: [] as number[], unknown: [] as number[] } };
    const resets = { existing: [] as number[], unknown: [] as number[] };
    for (let call = 0; call < 20; call += 1) {
      samples.register.existing.push(await timed(() => registerRest(existing)));
      samples.register.unknown.push(await timed(() => registerRest(unknown)));
      resets.existing.push(
        await timed(() =>
          callRest(suite.server.url, 'POST', '/auth/request-password-reset', { email: existing }),
        ),
      );
      resets.unknown.push(
        await timed(() =>
          callRest(suite.server.url, 'POST', '/auth/request-password-reset', { email: unknown }),
        ),
      );
    }
    for (const [what, { existing: known, unknown: other }] of Object.entries({
      register: samples.register,
      reset: resets,
    })) {
      const [a, b] = [median(known), median(other)];
      expect(Math.abs(a - b), `${what}: medians ${a.toFixed(1)} and ${b.toFixed(1)} ms`).toBeLessThan(
        sameWorkTolerance(a, b),
      );
    }
  });

  it('answers reset requests alike and emails one link for 50 requests from 50 addresses (checklist 14)', async () => {
    const existing = await existingAccount();
    const unknown = freshEmail('nobody');
    const ask = (email: string, address: string) =>
      fetch(`${suite.server.url}/api/auth/request-password-reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ email }),
      }).then(async (response) => ({ status: response.status, body: await response.json() }));
    const answers = { existing: [] as Answer[], unknown: [] as Answer[] };
    for (let address = 1; address <= 50; address += 1) {
      answers.existing.push(await ask(existing, `198.51.100.${address}`));
      answers.unknown.push(await ask(unknown, `203.0.113.${address}`));
    }
    expect(answers.unknown).toEqual(answers.existing);
    expect(new Set(answers.existing.map((answer) => answer.status))).toEqual(new Set([200]));
    // A link is stored for each email sent; the mail itself goes out after the answer.
    await suite.smtp.waitForMail(existing, RESET_MAIL);
    const users = suite.server.app.database.connection.collection('users');
    const account = await users.findOne({ email: existing });
    const links = suite.server.app.database.connection.collection('passwordresets');
    expect(await links.countDocuments({ userId: account?._id })).toBe(1);
    expect(suite.smtp.countMail(unknown, RESET_MAIL)).toBe(0);
  });
});
