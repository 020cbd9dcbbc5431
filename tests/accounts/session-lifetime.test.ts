import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const TTL_DAYS = 3;
const suite = useTestServer({
  env: { AUTH_RATE_LIMIT_MAX: '1000', REFRESH_TOKEN_TTL_DAYS: String(TTL_DAYS) },
});

let client: MongoClient;
let admin: SignedIn;

beforeAll(async () => {
  client = await MongoClient.connect(suite.server.mongodbUri);
  admin = await signInNewAdmin(suite.server);
});

afterAll(async () => {
  await client?.close();
});

/** The stored session (refresh-token family) of an access token, by its `sid` claim. */
async function sessionOf(accessToken: string) {
  const [, payload] = accessToken.split('.') as [string, string, string];
  const { sid } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sid: string };
  const sessions = client.db().collection<{ _id: string; expiresAt: Date }>('refreshfamilies');
  return { sid, read: () => sessions.findOne({ _id: sid }), sessions };
}

describe('the absolute lifetime of a session (RFC 9700 §4.14.2)', () => {
  it('is fixed at login: rotating never extends it, and once it passes the refresh token is refused', async () => {
    const before = Date.now();
    const user = await signInNewUser(suite.server, admin, 'lifetime@example.com');
    const session = await sessionOf(user.token);
    const atLogin = (await session.read())?.expiresAt.getTime() ?? 0;
    const ttlMs = TTL_DAYS * 24 * 60 * 60 * 1000;
    expect(atLogin).toBeGreaterThanOrEqual(before + ttlMs);
    expect(atLogin).toBeLessThanOrEqual(Date.now() + ttlMs);

    let refreshToken = user.refreshToken;
    for (let rotation = 0; rotation < 3; rotation += 1) {
      const rotated = await callRest(suite.server.url, 'POST', '/auth/refresh', { refreshToken });
      expect(rotated.status).toBe(200);
      refreshToken = String(rotated.body.refreshToken);
    }
    expect((await session.read())?.expiresAt.getTime()).toBe(atLogin);

    // Time passing, as a clock TTL_DAYS ahead would see it.
    await session.sessions.updateOne(
      { _id: session.sid },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    const expired = await callRest(suite.server.url, 'POST', '/auth/refresh', { refreshToken });
    expect([expired.status, expired.body.code]).toEqual([401, 'INVALID_TOKEN']);
  });
});
