import type { FastifyRequest } from 'fastify';

import { bearerTokenOf, type AccessTokens } from '../infra/access-tokens.js';
import { addressKey } from '../infra/address-key.js';

/**
 * Whom the global request limit counts a request against: the signed-in user when it carries a valid
 * access token, else the client address (an IPv6 client by its /64). Many people can share an address (an office, a mobile carrier's
 * NAT, a third party's backend); a signed-in user has a budget of their own.
 */
export function globalRateLimitKey(accessTokens: AccessTokens): (request: FastifyRequest) => Promise<string> {
  return async (request) => {
    const token = bearerTokenOf(request.headers.authorization);
    const claims = token ? await accessTokens.verify(token) : undefined;
    return claims ? `user:${claims.userId}` : `ip:${addressKey(request.ip)}`;
  };
}
