import { hkdfSync } from 'node:crypto';

/**
 * What a key derived from JWT_SECRET is for. Each purpose has its own key, so a value the server
 * computes for one purpose (a code hash, an asset URL signature) can never pass as another (an access
 * token signature) — RFC 8725 §3.12.
 */
export type KeyPurpose =
  'access-tokens' | 'verification-codes' | 'asset-urls' | 'webhook-secrets' | 'api-keys';

const SALT = 'gen3d key derivation v1';
const KEY_BYTES = 32;

/** The HKDF-SHA256 key for `purpose` from the server secret (RFC 5869); the same inputs always give the same key. */
export function derivedKey(secret: string, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, `gen3d ${purpose}`, KEY_BYTES));
}
