import { errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';

import type { TRole } from '@gen3d/shared';

import { derivedKey } from './derived-keys.js';

const ISSUER = 'gen3d';
/** The media type of OAuth access tokens (RFC 9068): set on every token and required by the verifier. */
const TOKEN_TYPE = 'at+jwt';
const AUDIENCE = 'gen3d-api';
/** How far ahead of this server's clock a token's `iat` may be (another instance's clock running fast). */
const ISSUED_AT_SKEW_SECONDS = 60;
/** Verified tokens remembered per instance: enough for every active session of a busy instance. */
const VERIFIED_TOKENS_REMEMBERED = 50_000;

export interface AccessClaims {
  userId: string;
  roles: TRole[];
  /** `sid`: the session (refresh-token family) the token was issued in; logging that session out ends it. */
  sessionId: string;
  /** `sv`: the account's session version at issue; a bump (logout-all, password change…) ends the token. */
  sessionVersion: number;
}

/** The token of an `Authorization: Bearer <JWT>` header; undefined for any other header or none. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  return /^Bearer ([\w-]+\.[\w-]+\.[\w-]*)$/.exec(authorization ?? '')?.[1];
}

export interface AccessTokens {
  issue(claims: AccessClaims): Promise<string>;
  /** The claims of a valid token; undefined for an expired, tampered, foreign or unsigned one. */
  verify(token: string): Promise<AccessClaims | undefined>;
}

/**
 * Short-lived JWTs signed with HS256 only (the algorithm is pinned: `alg: none` and RS/ES confusion fail),
 * typed `at+jwt`, with a key derived from `secret` for access tokens alone. Whether the token's session
 * is still alive is the caller's check (against the account), not this one's.
 */
export function createAccessTokens(secret: string, ttlSeconds: number): AccessTokens {
  // Imported once: handing jose raw bytes would re-import the key at every sign and verify.
  const key = crypto.subtle.importKey(
    'raw',
    new Uint8Array(derivedKey(secret, 'access-tokens')),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  // A token's signature and claims cannot change, so once verified it stays valid until its `exp`:
  // remembering that spares the WebCrypto round trip on every request of a session. Only exact token
  // strings hit, so a tampered token is always verified afresh.
  const verified = new LRUCache<string, AccessClaims>({
    max: VERIFIED_TOKENS_REMEMBERED,
    ttlAutopurge: false,
  });
  return {
    issue: async ({ userId, roles, sessionId, sessionVersion }) =>
      new SignJWT({ roles: [...roles], sid: sessionId, sv: sessionVersion })
        .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(await key),
    async verify(token) {
      const remembered = verified.get(token);
      if (remembered) return remembered;
      try {
        const { payload } = await jwtVerify(token, await key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          typ: TOKEN_TYPE,
        });
        const { sub, roles, sid, sv, exp, iat } = payload;
        if (
          typeof sub !== 'string' ||
          typeof iat !== 'number' ||
          iat > Date.now() / 1000 + ISSUED_AT_SKEW_SECONDS ||
          !Array.isArray(roles) ||
          typeof sid !== 'string' ||
          !Number.isSafeInteger(sv) ||
          typeof exp !== 'number'
        )
          return undefined;
        const claims: AccessClaims = {
          userId: sub,
          roles: roles as TRole[],
          sessionId: sid,
          sessionVersion: sv as number,
        };
        const secondsLeft = exp - Date.now() / 1000;
        if (secondsLeft > 0) verified.set(token, claims, { ttl: secondsLeft * 1000 });
        return claims;
      } catch (error) {
        if (error instanceof errors.JOSEError || error instanceof TypeError) return undefined;
        throw error;
      }
    },
  };
}
