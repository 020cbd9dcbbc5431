import type { FastifyRequest } from 'fastify';

import { bearerTokenOf, type AccessTokens } from '../infra/access-tokens.js';
import { addressKey } from '../infra/address-key.js';
import { presentedApiKey } from '../modules/api-keys/key-format.js';

/**
 * Whom the global request limit counts a request against: the signed-in user when it carries a valid
 * access token or one of their API keys (`apiKeyOwner`), else the client address (an IPv6 client by its
 * /64). Many people can share an address (an office, a mobile carrier's NAT, a third party's backend); a
 * signed-in user has a budget of their own, shared by their sessions and keys.
 */
export function globalRateLimitKey(
  accessTokens: AccessTokens,
  apiKeyOwner: (key: string) => Promise<string | undefined>,
): (request: FastifyRequest) => Promise<string> {
  return async (request) => {
    const key = presentedApiKey(request.headers.authorization);
    if (key !== undefined) {
      const owner = await apiKeyOwner(key);
      return owner ? `user:${owner}` : `ip:${addressKey(request.ip)}`;
    }
    const token = bearerTokenOf(request.headers.authorization);
    const claims = token ? await accessTokens.verify(token) : undefined;
    return claims ? `user:${claims.userId}` : `ip:${addressKey(request.ip)}`;
  };
}
