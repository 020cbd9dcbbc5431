import { errors, jwtVerify, SignJWT } from 'jose';
import type { TRole } from '@gen3d/shared';

const ISSUER = 'gen3d';
const AUDIENCE = 'gen3d-api';

export interface AccessClaims {
  userId: string;
  roles: TRole[];
}

export interface AccessTokens {
  issue(claims: AccessClaims): Promise<string>;
  /** The claims of a valid token; undefined for an expired, tampered, foreign or unsigned one. */
  verify(token: string): Promise<AccessClaims | undefined>;
}

/** Short-lived JWTs signed with HS256 only (the algorithm is pinned: `alg: none` and RS/ES confusion fail). */
export function createAccessTokens(secret: string, ttlSeconds: number): AccessTokens {
  // Imported once: handing jose raw bytes would re-import the key at every sign and verify.
  const key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
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
      try {
        const { payload } = await jwtVerify(token, await key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
        if (typeof payload.sub !== 'string' || !Array.isArray(payload.roles)) return undefined;
        return { userId: payload.sub, roles: payload.roles as TRole[] };
      } catch (error) {
        if (error instanceof errors.JOSEError || error instanceof TypeError) return undefined;
        throw error;
      }
    },
  };
}
