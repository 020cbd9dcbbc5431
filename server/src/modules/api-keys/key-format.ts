import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An API key is `g3d_<public id>_<secret>`: 8 random bytes of public id in hex (how the key is found and
 * shown), then 32 random bytes of secret in base64url. Access tokens are JWTs (`eyJ…`), so the visible
 * `g3d_` prefix tells the two apart before anything is verified.
 */
export const API_KEY_PREFIX = 'g3d_';
const KEY_PATTERN = /^g3d_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  publicId: string;
  secret: string;
}

/** The credential of an `Authorization: Bearer g3d_…` header, well formed or not; undefined for anything else. */
export function presentedApiKey(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(g3d_\S*)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** The parts of a well-formed key; undefined when it cannot be one. */
export function parseApiKey(key: string): ParsedApiKey | undefined {
  const match = KEY_PATTERN.exec(key);
  return match ? { publicId: match[1] as string, secret: match[2] as string } : undefined;
}

/** A new random key and its parts. */
export function newApiKey(): ParsedApiKey & { key: string } {
  const publicId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { key: `${API_KEY_PREFIX}${publicId}_${secret}`, publicId, secret };
}

/** What users see of a key: its prefix and public id. */
export const displayPrefixOf = (publicId: string): string => `${API_KEY_PREFIX}${publicId}`;

/** How a key's secret is stored: an HMAC-SHA256 under a key derived from the server secret, in hex. */
export function hashApiKeySecret(secret: string, pepper: Buffer): string {
  return createHmac('sha256', pepper).update(secret).digest('hex');
}

/** Whether `secret` is the one `storedHash` was made from, in constant time. */
export function secretMatches(secret: string, storedHash: string, pepper: Buffer): boolean {
  const presented = Buffer.from(hashApiKeySecret(secret, pepper), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
