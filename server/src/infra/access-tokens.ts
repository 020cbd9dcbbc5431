import { errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';

import type { TRole } from '@gen3d/shared';

const ISSUER = 'gen3d';
const AUDIENCE = 'gen3d-api';
/** Verified tokens remembered per instance: enough for every active session of a busy instance. */
const VERIFIED_TOKENS_REMEMBERED = 50_000;

export interface AccessClaims {
  userId: string;
  roles: TRole[];
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

/** Short-lived JWTs signed with HS256 only (the algorithm is pinned: `alg: none` and RS/ES confusion fail). */
export function createAccessTokens(secret: string, ttlSeconds: number): AccessTokens {
  // Imported once: handing jose raw bytes would re-import the key at every sign and verify.
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
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
    issue: async ({ userId, roles }) =>
      new SignJWT({ roles: [...roles] })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
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
        });
        if (
          typeof payload.sub !== 'string' ||
          !Array.isArray(payload.roles) ||
          typeof payload.exp !== 'number'
        )
          return undefined;
        const claims = { userId: payload.sub, roles: payload.roles as TRole[] };
        const secondsLeft = payload.exp - Date.now() / 1000;
        if (secondsLeft > 0) verified.set(token, claims, { ttl: secondsLeft * 1000 });
        return claims;
      } catch (error) {
        if (error instanceof errors.JOSEError || error instanceof TypeError) return undefined;
        throw error;
      }
    },
  };
}
