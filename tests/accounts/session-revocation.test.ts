import { createHmac } from 'node:crypto';

import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';

import { createGen3dClient } from '@gen3d/client';
import { derivedKey } from '@gen3d/server';

import { logIn, signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer, type SuiteServer } from '../support/server.js';
import { resetTokenIn } from '../support/smtp.js';

const ROUNDS = 30;
// Many logins and refreshes from one address: the auth limits are tested elsewhere.
const generousLimits = {
  AUTH_RATE_LIMIT_MAX: '10000',
  AUTH_RATE_LIMIT_IP_MAX: '10000',
  RATE_LIMIT_MAX: '100000',
};
const PASSWORD = 'user password 1';

/** What GET /api/auth/me and tRPC auth.me answer for an access token: 200 or the error's HTTP status. */
async function meStatuses(suite: SuiteServer, token: string): Promise<{ rest: number; trpc: number }> {
  const rest = await callRest(suite.server.url, 'GET', '/auth/me', undefined, token);
  const client = createGen3dClient({
    url: suite.server.url,
    headers: () => ({ authorization: `Bearer ${token}` }),
  });
  const trpc = await client.auth.me.query().then(
    () => 200,
    (error: unknown) => (error as { data?: { httpStatus?: number } }).data?.httpStatus ?? Number.NaN,
  );
  return { rest: rest.status, trpc };
}

async function expectAccessEnded(suite: SuiteServer, token: string, why: string): Promise<void> {
  expect(await meStatuses(suite, token), why).toEqual({ rest: 401, trpc: 401 });
}

async function expectAccessAlive(suite: SuiteServer, token: string, why: string): Promise<void> {
  expect(await meStatuses(suite, token), why).toEqual({ rest: 200, trpc: 200 });
}

/** One refresh over REST, or over tRPC with the typed client; the new pair, or the HTTP status of the refusal. */
async function refresh(
  suite: SuiteServer,
  refreshToken: string,
  via: 'rest' | 'trpc',
): Promise<{ status: number; token?: string; refreshToken?: string }> {
  if (via === 'rest') {
    const answer = await callRest(suite.server.url, 'POST', '/auth/refresh', { refreshToken });
    return answer.status === 200
      ? { status: 200, token: String(answer.body.token), refreshToken: String(answer.body.refreshToken) }
      : { status: answer.status };
  }
  return createGen3dClient({ url: suite.server.url })
    .auth.refresh.mutate({ refreshToken })
    .then(
      (pair) => ({ status: 200, token: pair.token, refreshToken: pair.refreshToken }),
      (error: unknown) => ({
        status: (error as { data?: { httpStatus?: number } }).data?.httpStatus ?? Number.NaN,
      }),
    );
}

async function refreshStatus(suite: SuiteServer, refreshToken: string): Promise<number> {
  return (await refresh(suite, refreshToken, 'rest')).status;
}

describe('sessions without a reuse grace (the default)', () => {
  const suite = useTestServer({ env: generousLimits, mail: true });

  it(`ends the whole family when one refresh token is presented twice at once (${ROUNDS} rounds): no successor survives`, async () => {
    const admin = await signInNewAdmin(suite.server);
    const user = await signInNewUser(suite.server, admin, 'racer@example.com', PASSWORD);
    for (let round = 0; round < ROUNDS; round += 1) {
      const session = await logIn(suite.server, user.email, PASSWORD);
      const answers = await Promise.all([
        refresh(suite, session.refreshToken, 'rest'),
        refresh(suite, session.refreshToken, 'trpc'),
      ]);
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses, `round ${round}`).toEqual([200, 401]);
      const winner = answers.find((answer) => answer.status === 200) as Required<(typeof answers)[0]>;
      expect(await refreshStatus(suite, winner.refreshToken), `round ${round}: the winner's successor`).toBe(
        401,
      );
      expect(await refreshStatus(suite, session.refreshToken), `round ${round}: the reused token`).toBe(401);
      await expectAccessEnded(suite, winner.token, `round ${round}: the winner's access token`);
      await expectAccessEnded(suite, session.token, `round ${round}: the login's access token`);
    }
  });

  it('ends every access token of the account on refresh reuse, other sessions included', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'reused@example.com', PASSWORD);
    const other = await logIn(suite.server, user.email, PASSWORD);
    const rotated = await refresh(suite, user.refreshToken, 'rest');
    expect(rotated.status).toBe(200);
    await expectAccessAlive(suite, String(rotated.token), 'before the reuse');
    expect(await refreshStatus(suite, user.refreshToken)).toBe(401);
    await expectAccessEnded(suite, String(rotated.token), 'the rotated session');
    await expectAccessEnded(suite, other.token, 'another session of the account');
    expect(await refreshStatus(suite, other.refreshToken)).toBe(401);
    await expectAccessAlive(suite, admin.token, 'another account');
  });

  it('logout ends that session’s access tokens and leaves the other sessions working', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'leaver@example.com', PASSWORD);
    const b = await logIn(suite.server, user.email, PASSWORD);
    const rotated = await refresh(suite, user.refreshToken, 'trpc');
    expect(rotated.status).toBe(200);
    const logout = await callRest(suite.server.url, 'POST', '/auth/logout', {
      refreshToken: rotated.refreshToken,
    });
    expect(logout.body).toEqual({ ok: true });
    await expectAccessEnded(suite, user.token, 'session A, first access token');
    await expectAccessEnded(suite, String(rotated.token), 'session A, rotated access token');
    expect(await refreshStatus(suite, String(rotated.refreshToken))).toBe(401);
    await expectAccessAlive(suite, b.token, 'session B');
    expect(await refreshStatus(suite, b.refreshToken)).toBe(200);
  });

  it('keeps the list of logged-out sessions bounded: past 50 live entries, a logout ends every session', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'many-devices@example.com', PASSWORD);
    const sessions = [user];
    for (let count = 1; count < 52; count += 1)
      sessions.push(await logIn(suite.server, user.email, PASSWORD));
    const [kept, last, ...listed] = sessions.reverse() as [SignedIn, SignedIn, ...SignedIn[]];
    expect(listed).toHaveLength(50);
    for (const session of listed)
      await callRest(suite.server.url, 'POST', '/auth/logout', { refreshToken: session.refreshToken });
    for (const session of listed) await expectAccessEnded(suite, session.token, 'a logged-out session');
    await expectAccessAlive(suite, kept.token, 'a session never logged out, with 50 listed');
    await callRest(suite.server.url, 'POST', '/auth/logout', { refreshToken: last.refreshToken });
    await expectAccessEnded(suite, last.token, 'the 51st logged-out session');
    await expectAccessEnded(suite, kept.token, 'every session, once the list is full');
    expect(await refreshStatus(suite, kept.refreshToken)).toBe(401);
    for (const session of listed) await expectAccessEnded(suite, session.token, 'still ended');
  });

  it('keeps the absolute expiry set at login through rotations, and refuses the session past it', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'long-lived@example.com', PASSWORD);
    const families = suite.server.app.database.connection.collection('refreshfamilies');
    const expiryOf = async () =>
      (await families.findOne({ userId: new Types.ObjectId(user.id) }))?.expiresAt as Date | undefined;
    const atLogin = await expiryOf();
    expect(atLogin).toBeInstanceOf(Date);
    const first = await refresh(suite, user.refreshToken, 'rest');
    const second = await refresh(suite, String(first.refreshToken), 'trpc');
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await expiryOf()).toEqual(atLogin);
    // The clock cannot be moved here, so the expiry is: the session is now past its absolute lifetime.
    await families.updateOne(
      { userId: new Types.ObjectId(user.id) },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    expect(await refreshStatus(suite, String(second.refreshToken))).toBe(401);
  });

  it('logout over tRPC ends the session’s access tokens too', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'trpc-leaver@example.com', PASSWORD);
    const b = await logIn(suite.server, user.email, PASSWORD);
    await createGen3dClient({ url: suite.server.url }).auth.logout.mutate({
      refreshToken: user.refreshToken,
    });
    await expectAccessEnded(suite, user.token, 'the logged-out session');
    await expectAccessAlive(suite, b.token, 'the other session');
  });

  it('logout-all ends every access token of the caller (REST and tRPC)', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'everywhere@example.com', PASSWORD);
    const b = await logIn(suite.server, user.email, PASSWORD);
    const answer = await callRest(suite.server.url, 'POST', '/auth/logout-all', undefined, user.token);
    expect(answer.status).toBe(200);
    await expectAccessEnded(suite, user.token, 'the caller');
    await expectAccessEnded(suite, b.token, 'the other session');
    expect(await refreshStatus(suite, b.refreshToken)).toBe(401);

    const c = await logIn(suite.server, user.email, PASSWORD);
    const d = await logIn(suite.server, user.email, PASSWORD);
    await createGen3dClient({
      url: suite.server.url,
      headers: () => ({ authorization: `Bearer ${c.token}` }),
    }).auth.logoutEverywhere.mutate();
    await expectAccessEnded(suite, c.token, 'the tRPC caller');
    await expectAccessEnded(suite, d.token, 'the other session (tRPC)');
    await expectAccessAlive(suite, (await logIn(suite.server, user.email, PASSWORD)).token, 'a new login');
  });

  it('a password change ends every session, the caller’s too', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'changer@example.com', PASSWORD);
    const b = await logIn(suite.server, user.email, PASSWORD);
    const changed = await callRest(
      suite.server.url,
      'POST',
      '/auth/change-password',
      { currentPassword: PASSWORD, newPassword: 'a new password 2' },
      user.token,
    );
    expect(changed.status).toBe(200);
    expect(String(changed.body.message)).toMatch(/log in again/);
    await expectAccessEnded(suite, user.token, 'the caller');
    await expectAccessEnded(suite, b.token, 'the other session');
    expect(await refreshStatus(suite, user.refreshToken)).toBe(401);
    expect(await refreshStatus(suite, b.refreshToken)).toBe(401);
    await expectAccessAlive(
      suite,
      (await logIn(suite.server, user.email, 'a new password 2')).token,
      'relogin',
    );
  });

  it('a password reset ends every access token of the account', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'forgetful@example.com', PASSWORD);
    await callRest(suite.server.url, 'POST', '/auth/request-password-reset', { email: user.email });
    const token = resetTokenIn(await suite.smtp.waitForMail(user.email, /Reset your gen3d password/));
    const reset = await createGen3dClient({ url: suite.server.url }).auth.resetPassword.mutate({
      token,
      newPassword: 'a reset password 3',
    });
    expect(reset.ok).toBe(true);
    await expectAccessEnded(suite, user.token, 'the session from before the reset');
    expect(await refreshStatus(suite, user.refreshToken)).toBe(401);
  });

  it('deactivation ends every access token, and reactivation does not bring them back', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'paused@example.com', PASSWORD);
    const setActive = (active: boolean) =>
      callRest(suite.server.url, 'PATCH', `/users/${user.id}`, { active }, admin.token);
    expect((await setActive(false)).status).toBe(200);
    await expectAccessEnded(suite, user.token, 'while deactivated');
    expect((await setActive(true)).status).toBe(200);
    await expectAccessEnded(suite, user.token, 'after reactivation');
    expect(await refreshStatus(suite, user.refreshToken)).toBe(401);
  });
});

describe('sessions with REFRESH_REUSE_GRACE_SECONDS=30', () => {
  const suite = useTestServer({ env: { ...generousLimits, REFRESH_REUSE_GRACE_SECONDS: '30' } });

  it(`answers both of two refreshes sent at once with valid pairs of the same session (${ROUNDS} rounds)`, async () => {
    const admin = await signInNewAdmin(suite.server);
    const user: SignedIn = await signInNewUser(suite.server, admin, 'two-tabs@example.com', PASSWORD);
    let refreshToken = user.refreshToken;
    for (let round = 0; round < ROUNDS; round += 1) {
      const answers = await Promise.all([
        refresh(suite, refreshToken, 'rest'),
        refresh(suite, refreshToken, 'trpc'),
      ]);
      expect(
        answers.map((answer) => answer.status),
        `round ${round}`,
      ).toEqual([200, 200]);
      for (const answer of answers) await expectAccessAlive(suite, String(answer.token), `round ${round}`);
      // Either refresh token carries the session on: the newest is current, the other was rotated just
      // now. The pair that answers becomes the current one, so the next round starts from it.
      const carried = await refresh(suite, String(answers[round % 2]?.refreshToken), 'rest');
      expect(carried.status, `round ${round}: the session goes on`).toBe(200);
      refreshToken = String(carried.refreshToken);
    }
    const last = await refresh(suite, refreshToken, 'rest');
    expect(last.status).toBe(200);
    await expectAccessAlive(suite, String(last.token), 'the session after the rounds');
    await expectAccessAlive(suite, user.token, 'the login’s access token');
  });

  it('answers a token presented again after a lost answer, and ends the session once a token is two rotations old', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'lost-answer@example.com', PASSWORD);
    const lost = await refresh(suite, user.refreshToken, 'rest');
    expect(lost.status).toBe(200);
    // The client never saw `lost` and retries with the token it holds: a new pair of the same session.
    const retried = await refresh(suite, user.refreshToken, 'trpc');
    expect(retried.status).toBe(200);
    const next = await refresh(suite, String(retried.refreshToken), 'rest');
    expect(next.status).toBe(200);
    // `lost` was replaced by `retried`, which was replaced by `next`: it is two rotations old now.
    expect(await refreshStatus(suite, String(lost.refreshToken))).toBe(401);
    expect(await refreshStatus(suite, String(next.refreshToken))).toBe(401);
    await expectAccessEnded(suite, String(next.token), 'the session after the reuse');
    await expectAccessEnded(suite, user.token, 'the login’s access token');
  });

  it('ends the session when the token from before two rotations comes back, grace or not', async () => {
    const admin = await logIn(suite.server, 'root@example.com', 'admin password 1');
    const user = await signInNewUser(suite.server, admin, 'two-old@example.com', PASSWORD);
    const first = await refresh(suite, user.refreshToken, 'rest');
    const second = await refresh(suite, String(first.refreshToken), 'rest');
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await refreshStatus(suite, user.refreshToken)).toBe(401);
    expect(await refreshStatus(suite, String(second.refreshToken))).toBe(401);
    await expectAccessEnded(suite, String(second.token), 'the newest access token');
  });
});

describe('access-token keys and type', () => {
  const suite = useTestServer({ env: generousLimits });

  /** The token's header and claims re-signed with HS256 under `key`, with `typ` set as given (or left out). */
  function resigned(token: string, key: Uint8Array | string, typ: string | undefined): string {
    const [, payload] = token.split('.') as [string, string, string];
    const header = Buffer.from(
      JSON.stringify(typ === undefined ? { alg: 'HS256' } : { alg: 'HS256', typ }),
    ).toString('base64url');
    const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  }

  it('accepts only at+jwt tokens signed with the access-token key: not the raw secret, not another purpose’s key', async () => {
    const admin = await signInNewAdmin(suite.server);
    const secret = suite.server.config.jwtSecret;
    const [header] = admin.token.split('.') as [string];
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    // The same claims, signed the way the server signs: accepted (so every refusal below is the key's or typ's).
    await expectAccessAlive(
      suite,
      resigned(admin.token, derivedKey(secret, 'access-tokens'), 'at+jwt'),
      'the server’s own signing',
    );
    const refused: Record<string, string> = {
      'signed with the raw JWT_SECRET (as before)': resigned(admin.token, secret, 'at+jwt'),
      'typ JWT': resigned(admin.token, derivedKey(secret, 'access-tokens'), 'JWT'),
      'no typ': resigned(admin.token, derivedKey(secret, 'access-tokens'), undefined),
      'raw secret and typ JWT (the old tokens)': resigned(admin.token, secret, 'JWT'),
      // What the verification-code hash (an HMAC under its pepper) computes over the token's bytes.
      'the verification-code MAC': resigned(admin.token, derivedKey(secret, 'verification-codes'), 'at+jwt'),
      // What the asset URL signer computes, with today's key and with the key it had before.
      'the signed-URL MAC': resigned(admin.token, derivedKey(secret, 'asset-urls'), 'at+jwt'),
      'the old signed-URL MAC': resigned(
        admin.token,
        createHmac('sha256', secret).update('gen3d asset urls').digest(),
        'at+jwt',
      ),
    };
    for (const [why, token] of Object.entries(refused)) await expectAccessEnded(suite, token, why);
  });
});
