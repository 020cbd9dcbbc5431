import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import { createGen3dClient, isGen3dError } from '@gen3d/client';
import { derivedKey } from '@gen3d/server';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' } });

let user: SignedIn;
let claims: JWTPayload;

beforeAll(async () => {
  const admin = await signInNewAdmin(suite.server);
  user = await signInNewUser(suite.server, admin, 'claims@example.com');
  const [, payload] = user.token.split('.') as [string, string, string];
  claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as JWTPayload;
});

interface Variant {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  /** Claims left out of the token. */
  without?: string[];
}

/** A token signed as the server signs (its access-token key, HS256, at+jwt), with one thing changed. */
async function signed(variant: Variant = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const all: Record<string, unknown> = {
    sub: claims.sub,
    roles: ['user'],
    sid: claims.sid,
    sv: claims.sv,
    iss: 'gen3d',
    aud: 'gen3d-api',
    iat: now,
    exp: now + 600,
    ...variant.claims,
  };
  const payload = Object.fromEntries(
    Object.entries(all).filter(([name]) => !(variant.without ?? []).includes(name)),
  );
  const key = new Uint8Array(derivedKey(suite.server.config.jwtSecret, 'access-tokens'));
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...variant.header } as { alg: string })
    .sign(key);
}

async function statusOverRest(token: string): Promise<number> {
  return (await callRest(suite.server.url, 'GET', '/auth/me', undefined, token)).status;
}

async function statusOverTrpc(token: string): Promise<number> {
  const client = createGen3dClient({
    url: suite.server.url,
    headers: () => ({ authorization: `Bearer ${token}` }),
  });
  try {
    await client.auth.me.query();
    return 200;
  } catch (error) {
    if (isGen3dError(error, 'UNAUTHORIZED')) return 401;
    throw error;
  }
}

describe('access tokens (RFC 8725)', () => {
  it('accepts a token signed as the server signs, so each refusal below has one cause', async () => {
    const token = await signed();
    expect([await statusOverRest(token), await statusOverTrpc(token)]).toEqual([200, 200]);
  });

  const refused: Array<[string, () => Promise<string>]> = [
    ['another audience', () => signed({ claims: { aud: 'another-api' } })],
    ['another issuer', () => signed({ claims: { iss: 'someone-else' } })],
    ['expired 5 s ago', () => signed({ claims: { exp: Math.floor(Date.now() / 1000) - 5 } })],
    ['no expiry', () => signed({ without: ['exp'] })],
    ['no issued-at', () => signed({ without: ['iat'] })],
    [
      'issued ten minutes in the future',
      () => signed({ claims: { iat: Math.floor(Date.now() / 1000) + 600 } }),
    ],
    ['not yet valid', () => signed({ claims: { nbf: Math.floor(Date.now() / 1000) + 600 } })],
    ['no session id', () => signed({ without: ['sid'] })],
    ['typed JWT rather than at+jwt', () => signed({ header: { typ: 'JWT' } })],
    ['untyped', () => signed({ header: { typ: undefined } })],
    [
      'RS256 with a key of its own',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT({ ...claims })
          .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
          .sign(privateKey);
      },
    ],
    [
      'HS512 over the same key',
      async () =>
        new SignJWT({ ...claims })
          .setProtectedHeader({ alg: 'HS512', typ: 'at+jwt' })
          .sign(new Uint8Array(derivedKey(suite.server.config.jwtSecret, 'access-tokens'))),
    ],
  ];

  it.each(refused)('refuses a token %s with 401, on REST and tRPC', async (_name, make) => {
    const token = await make();
    expect([await statusOverRest(token), await statusOverTrpc(token)]).toEqual([401, 401]);
  });
});
