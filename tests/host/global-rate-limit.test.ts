import { describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

// Every request below comes from 127.0.0.1, as from people behind one NAT.
const suite = useTestServer({
  env: { RATE_LIMIT_MAX: '6', RATE_LIMIT_WINDOW_MS: '600000', AUTH_RATE_LIMIT_MAX: '1000' },
});

async function statuses(count: number, token?: string): Promise<number[]> {
  const seen: number[] = [];
  for (let call = 0; call < count; call += 1)
    seen.push(
      (await callRest(suite.server.url, 'GET', token ? '/auth/me' : '/system/info', undefined, token)).status,
    );
  return seen;
}

describe('the global request limit', () => {
  it('gives each signed-in user a budget of their own and counts anonymous requests per address', async () => {
    // Two logins: anonymous requests 1 and 2 of this address. Creating the user is the admin's first request.
    const admin = await signInNewAdmin(suite.server);
    const user = await signInNewUser(suite.server, admin, 'neighbour@example.com');

    expect(await statuses(6, admin.token)).toEqual([200, 200, 200, 200, 200, 429]);
    // The admin's budget is spent; the user on the same address still has all of theirs.
    expect(await statuses(7, user.token)).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(await statuses(5)).toEqual([200, 200, 200, 200, 429]);
    // A token that does not verify is counted against the address, like no token.
    expect(await statuses(1, `${user.token.slice(0, -4)}AAAA`)).toEqual([429]);
  });
});
