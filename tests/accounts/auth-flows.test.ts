import { TRPCClientError } from '@trpc/client';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createGen3dClient } from '@gen3d/client';
import { derivedKey } from '@gen3d/server';

import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { codeIn, resetTokenIn, startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';

let smtp: TestSmtpServer;
let database: TestDatabase;
let server: TestServer;
let counter = 0;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  database = await startTestDatabase();
  server = await startTestServer(database, { env: { SMTP_URL: smtp.url, AUTH_RATE_LIMIT_MAX: '1000' } });
});

afterAll(async () => {
  await server?.close();
  await database?.stop();
  await smtp?.close();
});

function freshEmail(): string {
  counter += 1;
  return `user${counter}-${Date.now()}@example.com`;
}

/** Registers and verifies through REST as a frontend would; returns the credentials. */
async function registeredUser(): Promise<{ email: string; password: string }> {
  const email = freshEmail();
  const password = 'correct horse battery';
  expect(
    (await callRest(server.url, 'POST', '/auth/register', { email, userName: 'Ada', password })).status,
  ).toBe(200);
  const code = codeIn(await smtp.waitForMail(email, /verification code/));
  expect((await callRest(server.url, 'POST', '/auth/register/verify', { email, code })).status).toBe(201);
  return { email, password };
}

function errorCodeOf(error: unknown): unknown {
  return error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;
}

describe('auth.register and auth.verifyRegistration', () => {
  it('emails a 6-digit code and creates a verified user account with it (REST)', async () => {
    const email = freshEmail();
    const registered = await callRest(server.url, 'POST', '/auth/register', {
      email: email.toUpperCase(),
      userName: 'Ada Lovelace',
      password: 'correct horse battery',
    });
    expect(registered.status).toBe(200);
    expect(registered.body).toMatchObject({ ok: true });
    expect(String(registered.body.message).length).toBeGreaterThan(10);
    const code = codeIn(await smtp.waitForMail(email, /verification code/));
    const verified = await callRest(server.url, 'POST', '/auth/register/verify', { email, code });
    expect(verified.status).toBe(201);
    expect(verified.body).toMatchObject({ ok: true, user: { email, userName: 'Ada Lovelace' } });
    expect(String((verified.body.user as { id: string }).id)).toMatch(/^[0-9a-f]{24}$/);
    const again = await callRest(server.url, 'POST', '/auth/register/verify', { email, code });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: 'INVALID_CODE' });
  });

  it('answers a registration for an existing account the same way and warns the owner by email', async () => {
    const { email } = await registeredUser();
    const before = smtp.received.length;
    const answer = await callRest(server.url, 'POST', '/auth/register', {
      email,
      userName: 'Mallory',
      password: 'another password',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: true });
    const warning = await smtp.waitForMail(email, /Someone tried to register/);
    expect(warning.text).not.toMatch(/\b\d{6}\b/);
    expect(smtp.received.length).toBe(before + 1);
  });

  it('kills a code after five wrong attempts', async () => {
    const email = freshEmail();
    await callRest(server.url, 'POST', '/auth/register', {
      email,
      userName: 'Bob',
      password: 'correct horse battery',
    });
    const code = codeIn(await smtp.waitForMail(email, /verification code/));
    const wrong = code === '000000' ? '111111' : '000000';
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const answer = await callRest(server.url, 'POST', '/auth/register/verify', { email, code: wrong });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('INVALID_CODE');
    }
    // The sixth guess meets the lock, even with the right code.
    const late = await callRest(server.url, 'POST', '/auth/register/verify', { email, code });
    expect(late.status).toBe(429);
    expect(late.body.code).toBe('ACCOUNT_LOCKED');
    expect(
      (await callRest(server.url, 'POST', '/auth/login', { email, password: 'correct horse battery' }))
        .status,
    ).toBe(401);
  });

  it('keeps the registration when SMTP fails, so asking again at once delivers a code', async () => {
    const email = freshEmail();
    smtp.failing = true;
    try {
      const answer = await callRest(server.url, 'POST', '/auth/register', {
        email,
        userName: 'Eve',
        password: 'correct horse battery',
      });
      expect(answer.status).toBe(200);
    } finally {
      smtp.failing = false;
    }
    const soon = await callRest(server.url, 'POST', '/auth/register', {
      email,
      userName: 'Eve',
      password: 'correct horse battery',
    });
    expect(soon.status).toBe(200);
    const code = codeIn(await smtp.waitForMail(email, /verification code/));
    expect((await callRest(server.url, 'POST', '/auth/register/verify', { email, code })).status).toBe(201);
  });

  it('rejects bad input with 400 and field paths, and NoSQL operators in string fields', async () => {
    const bad = await callRest(server.url, 'POST', '/auth/register', {
      email: 'not-an-email',
      userName: 'x',
      password: 'short',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect((bad.body.issues as Array<{ path: string }>).map((issue) => issue.path).sort()).toEqual([
      'email',
      'password',
      'userName',
    ]);
    const injected = await callRest(server.url, 'POST', '/auth/login', {
      email: { $gt: '' },
      password: { $ne: null },
    });
    expect(injected.status).toBe(400);
    expect(injected.body.code).toBe('VALIDATION_FAILED');
    const extra = await callRest(server.url, 'POST', '/auth/register', {
      email: freshEmail(),
      userName: 'Ok',
      password: 'long enough',
      roles: ['admin'],
    });
    expect(extra.status).toBe(400);
  });
});

describe('auth.login, auth.refresh and auth.logout', () => {
  it('logs in, reads auth.me, and rotates refresh tokens (typed client)', async () => {
    const { email, password } = await registeredUser();
    const client = createGen3dClient({ url: server.url });
    const session = await client.auth.login.mutate({ email, password });
    expect(session.user).toMatchObject({ email, roles: ['user'], emailVerified: true });
    const authed = createGen3dClient({
      url: server.url,
      headers: () => ({ authorization: `Bearer ${session.token}` }),
    });
    const me = await authed.auth.me.query();
    expect(me).toMatchObject({
      email,
      userName: 'Ada',
      roles: ['user'],
      active: true,
      settings: { theme: 'system' },
    });
    expect(JSON.stringify(me)).not.toMatch(/password|hash/i);

    const rotated = await client.auth.refresh.mutate({ refreshToken: session.refreshToken });
    expect(rotated.refreshToken).not.toBe(session.refreshToken);
    const next = await client.auth.refresh.mutate({ refreshToken: rotated.refreshToken });
    expect(next.token.split('.')).toHaveLength(3);
  });

  it('treats a reused refresh token as theft and revokes the whole family', async () => {
    const { email, password } = await registeredUser();
    const login = await callRest(server.url, 'POST', '/auth/login', { email, password });
    const first = String(login.body.refreshToken);
    const second = String(
      (await callRest(server.url, 'POST', '/auth/refresh', { refreshToken: first })).body.refreshToken,
    );
    const reuse = await callRest(server.url, 'POST', '/auth/refresh', { refreshToken: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('INVALID_TOKEN');
    const afterTheft = await callRest(server.url, 'POST', '/auth/refresh', { refreshToken: second });
    expect(afterTheft.status).toBe(401);
  });

  it('gives the same error for a wrong email and a wrong password', async () => {
    const { email } = await registeredUser();
    const wrongPassword = await callRest(server.url, 'POST', '/auth/login', {
      email,
      password: 'not the password',
    });
    const wrongEmail = await callRest(server.url, 'POST', '/auth/login', {
      email: freshEmail(),
      password: 'not the password',
    });
    expect(wrongPassword.status).toBe(401);
    expect(wrongEmail.status).toBe(401);
    expect(wrongPassword.body.error).toBe(wrongEmail.body.error);
    expect(wrongPassword.body.code).toBe('INVALID_CREDENTIALS');
    expect(wrongEmail.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('revokes the presented refresh token on logout, and all of them on logout-all', async () => {
    const { email, password } = await registeredUser();
    const a = await callRest(server.url, 'POST', '/auth/login', { email, password });
    const b = await callRest(server.url, 'POST', '/auth/login', { email, password });
    expect(
      (await callRest(server.url, 'POST', '/auth/logout', { refreshToken: a.body.refreshToken })).body,
    ).toEqual({ ok: true });
    expect(
      (await callRest(server.url, 'POST', '/auth/refresh', { refreshToken: a.body.refreshToken })).status,
    ).toBe(401);
    const c = await callRest(server.url, 'POST', '/auth/login', { email, password });
    expect(
      (await callRest(server.url, 'POST', '/auth/logout-all', undefined, String(c.body.token))).status,
    ).toBe(200);
    expect(
      (await callRest(server.url, 'POST', '/auth/refresh', { refreshToken: b.body.refreshToken })).status,
    ).toBe(401);
    expect(
      (await callRest(server.url, 'POST', '/auth/refresh', { refreshToken: c.body.refreshToken })).status,
    ).toBe(401);
  });

  it('refuses missing, malformed, tampered, unsigned, expired and unknown-user access tokens with 401', async () => {
    const { email, password } = await registeredUser();
    const token = String((await callRest(server.url, 'POST', '/auth/login', { email, password })).body.token);
    const [header, payload] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const elevated = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const attempts = [
      undefined,
      'garbage',
      `${header}.${elevated}.${token.split('.')[2]}`,
      `${unsignedHeader}.${payload}.`,
    ];
    expect((await callRest(server.url, 'GET', '/auth/me', undefined, token)).status).toBe(200);
    for (const attempt of attempts) {
      const answer = await callRest(server.url, 'GET', '/auth/me', undefined, attempt);
      expect(answer.status, String(attempt)).toBe(401);
      expect(answer.body.code).toBe('UNAUTHORIZED');
    }
    // Signed as the server signs (its access-token key, typ at+jwt, the session's sid and sv), so only
    // the expiry or the unknown user can be why these are refused.
    const key = new Uint8Array(derivedKey(server.config.jwtSecret, 'access-tokens'));
    const sign = (subject: string, expiresAt: number) =>
      new SignJWT({ roles: ['admin'], sid: claims.sid, sv: claims.sv })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setSubject(subject)
        .setIssuer('gen3d')
        .setAudience('gen3d-api')
        .setIssuedAt(expiresAt - 900)
        .setExpirationTime(expiresAt)
        .sign(key);
    const now = Math.floor(Date.now() / 1000);
    const expired = await sign(String(claims.sub), now - 60);
    const ghost = await sign('0123456789abcdef01234567', now + 600);
    expect(
      (await callRest(server.url, 'GET', '/auth/me', undefined, await sign(String(claims.sub), now + 600)))
        .status,
      'the same signing, unexpired, for a real user',
    ).toBe(200);
    for (const attempt of [expired, ghost]) {
      expect((await callRest(server.url, 'GET', '/auth/me', undefined, attempt)).status).toBe(401);
    }
    const client = createGen3dClient({ url: server.url });
    await expect(client.auth.me.query()).rejects.toSatisfy(
      (error: unknown) => errorCodeOf(error) === 'UNAUTHORIZED',
    );
  });
});

describe('password reset and change', () => {
  it('resets a password once with the emailed token and revokes existing sessions', async () => {
    const { email, password } = await registeredUser();
    const session = await callRest(server.url, 'POST', '/auth/login', { email, password });
    const unknown = await callRest(server.url, 'POST', '/auth/request-password-reset', {
      email: freshEmail(),
    });
    const known = await callRest(server.url, 'POST', '/auth/request-password-reset', { email });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual(known.body);
    const token = resetTokenIn(await smtp.waitForMail(email, /Reset your gen3d password/));
    const reset = await callRest(server.url, 'POST', '/auth/reset-password', {
      token,
      newPassword: 'a brand new secret',
    });
    expect(reset.status).toBe(200);
    expect(
      (
        await callRest(server.url, 'POST', '/auth/reset-password', {
          token,
          newPassword: 'yet another secret',
        })
      ).status,
    ).toBe(401);
    expect(
      (await callRest(server.url, 'POST', '/auth/refresh', { refreshToken: session.body.refreshToken }))
        .status,
    ).toBe(401);
    expect((await callRest(server.url, 'POST', '/auth/login', { email, password })).status).toBe(401);
    expect(
      (await callRest(server.url, 'POST', '/auth/login', { email, password: 'a brand new secret' })).status,
    ).toBe(200);
  });

  it('changes the password only with the current one', async () => {
    const { email, password } = await registeredUser();
    const token = String((await callRest(server.url, 'POST', '/auth/login', { email, password })).body.token);
    const wrong = await callRest(
      server.url,
      'POST',
      '/auth/change-password',
      { currentPassword: 'nope', newPassword: 'something longer' },
      token,
    );
    expect(wrong.status).toBe(401);
    const changed = await callRest(
      server.url,
      'POST',
      '/auth/change-password',
      { currentPassword: password, newPassword: 'something longer' },
      token,
    );
    expect(changed.status).toBe(200);
    expect(
      (await callRest(server.url, 'POST', '/auth/login', { email, password: 'something longer' })).status,
    ).toBe(200);
  });
});

describe('auth.updateMe', () => {
  it('changes name, profile and settings, and rejects unknown fields such as roles', async () => {
    const { email, password } = await registeredUser();
    const token = String((await callRest(server.url, 'POST', '/auth/login', { email, password })).body.token);
    const updated = await callRest(
      server.url,
      'PATCH',
      '/auth/me',
      { userName: 'Ada L.', settings: { theme: 'dark' }, profile: { bio: 'I model foxes' } },
      token,
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      userName: 'Ada L.',
      settings: { theme: 'dark', language: 'en' },
      profile: { bio: 'I model foxes' },
    });
    const escalation = await callRest(server.url, 'PATCH', '/auth/me', { roles: ['admin'] }, token);
    expect(escalation.status).toBe(400);
    const me = await callRest(server.url, 'GET', '/auth/me', undefined, token);
    expect(me.body.roles).toEqual(['user']);
  });
});
