import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { createGen3dClient, isGen3dError } from '@gen3d/client';

import { useTestServer } from '../support/server.js';

const ADDRESS_LIMIT = 3;
const limits = {
  AUTH_RATE_LIMIT_MAX: '1000',
  AUTH_RATE_LIMIT_IP_MAX: String(ADDRESS_LIMIT),
  AUTH_RATE_LIMIT_WINDOW_MS: '600000',
};
// One proxy in front, as with nginx's `$proxy_add_x_forwarded_for`: the last entry is the address the
// proxy saw; everything before it is whatever the client sent.
const behindOneHop = useTestServer({ env: { ...limits, TRUST_PROXY: '1' } });
// The proxy named by address: here the tests themselves, on loopback.
const behindLoopbackProxy = useTestServer({ env: { ...limits, TRUST_PROXY: '127.0.0.1' } });

const spoofed = (): string => `${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}.9`;
const uniqueEmail = (): string => `nobody-${randomBytes(6).toString('hex')}@example.com`;

type LoginAttempt = (url: string, forwardedFor: string) => Promise<number>;

const overRest: LoginAttempt = async (url, forwardedFor) => {
  const response = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ email: uniqueEmail(), password: 'a wrong password' }),
  });
  return response.status;
};

const overTrpc: LoginAttempt = async (url, forwardedFor) => {
  const client = createGen3dClient({ url, headers: () => ({ 'x-forwarded-for': forwardedFor }) });
  try {
    await client.auth.login.mutate({ email: uniqueEmail(), password: 'a wrong password' });
    return 200;
  } catch (error) {
    if (!isGen3dError(error)) throw error;
    return error.code === 'RATE_LIMITED' ? 429 : error.code === 'INVALID_CREDENTIALS' ? 401 : 0;
  }
};

const transports = [
  ['REST', overRest, '203.0.113.10', '2001:db8:10:1'],
  ['tRPC', overTrpc, '203.0.113.20', '2001:db8:20:1'],
] as const;

describe.each(transports)('the client address over %s', (_name, attempt, proxySaw, ipv6Prefix) => {
  it('is the one the trusted proxy saw, whatever X-Forwarded-For the client sent', async () => {
    const statuses: number[] = [];
    for (let round = 0; round <= ADDRESS_LIMIT; round += 1)
      statuses.push(await attempt(behindOneHop.server.url, `${spoofed()}, ${spoofed()}, ${proxySaw}`));
    expect(statuses).toEqual([...Array<number>(ADDRESS_LIMIT).fill(401), 429]);
  });

  it('counts every address of an IPv6 /64 as one client, and another /64 apart', async () => {
    const statuses: number[] = [];
    for (let host = 1; host <= ADDRESS_LIMIT + 1; host += 1)
      statuses.push(
        await attempt(behindLoopbackProxy.server.url, `${ipv6Prefix}:${host.toString(16)}::${host}`),
      );
    expect(statuses).toEqual([...Array<number>(ADDRESS_LIMIT).fill(401), 429]);
    const neighbour = ipv6Prefix.replace(/:1$/, ':2');
    expect(await attempt(behindLoopbackProxy.server.url, `${neighbour}::1`)).toBe(401);
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', async () => {
    const ipv4 = `${proxySaw}0`;
    const statuses: number[] = [];
    for (let round = 0; round < ADDRESS_LIMIT; round += 1)
      statuses.push(await attempt(behindLoopbackProxy.server.url, ipv4));
    statuses.push(await attempt(behindLoopbackProxy.server.url, `::ffff:${ipv4}`));
    expect(statuses).toEqual([...Array<number>(ADDRESS_LIMIT).fill(401), 429]);
  });
});

describe('without a trusted proxy', () => {
  const direct = useTestServer({ env: limits });

  it('ignores X-Forwarded-For', async () => {
    const statuses: number[] = [];
    for (let round = 0; round <= ADDRESS_LIMIT; round += 1)
      statuses.push(await overRest(direct.server.url, spoofed()));
    expect(statuses).toEqual([...Array<number>(ADDRESS_LIMIT).fill(401), 429]);
  });
});
