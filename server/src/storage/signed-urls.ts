import { createHmac, timingSafeEqual } from 'node:crypto';

import { currentBaseUrl } from '../http/request-base-url.js';
import { derivedKey } from '../infra/derived-keys.js';

export interface SignedUrl {
  url: string;
  expiresAt: Date;
}

export type SignatureCheck = 'valid' | 'expired' | 'invalid';

/**
 * Expiring asset URLs: `/assets/<assetId>/<fileName>?expires=<unix s>&sig=<HMAC>`. The HMAC covers the
 * asset, the file name and the expiry, so none of them can be changed without the server's key. A URL
 * signed while answering a request starts with the base URL that client used; elsewhere with `publicUrl`.
 */
export interface AssetUrlSigner {
  sign(assetId: string, fileName: string): SignedUrl;
  check(
    assetId: string,
    fileName: string,
    expires: string | undefined,
    signature: string | undefined,
  ): SignatureCheck;
}

export function createAssetUrlSigner(secret: string, publicUrl: string, ttlSeconds: number): AssetUrlSigner {
  // A key of its own, so an asset signature can never be replayed as anything else.
  const key = derivedKey(secret, 'asset-urls');
  const mac = (assetId: string, fileName: string, expires: string): Buffer =>
    createHmac('sha256', key).update(`${assetId}/${fileName}:${expires}`).digest();
  return {
    sign(assetId, fileName) {
      // Expiry rounded up to the minute: URLs signed in the same minute are equal, so caches can reuse them.
      const expires = Math.ceil((Date.now() / 1000 + ttlSeconds) / 60) * 60;
      const signature = mac(assetId, fileName, String(expires)).toString('base64url');
      return {
        url: `${currentBaseUrl(publicUrl)}/assets/${assetId}/${encodeURIComponent(fileName)}?expires=${expires}&sig=${signature}`,
        expiresAt: new Date(expires * 1000),
      };
    },
    check(assetId, fileName, expires, signature) {
      if (!expires || !signature || !/^\d{1,12}$/.test(expires)) return 'invalid';
      const expected = mac(assetId, fileName, expires);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      return Number(expires) * 1000 < Date.now() ? 'expired' : 'valid';
    },
  };
}
