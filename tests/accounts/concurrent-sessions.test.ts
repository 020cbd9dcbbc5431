import { describe, expect, it } from 'vitest';

import { createGen3dClient } from '@gen3d/client';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

// Many logins from one address: the per-IP auth limit is tested elsewhere.
const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' } });

/** Every account asks for itself `rounds` times, all requests in flight at once, interleaved. */
async function everyoneAsksForThemselves(
  accounts: SignedIn[],
  rounds: number,
): Promise<Array<{ account: SignedIn; status: number; email: unknown }>> {
  const calls = Array.from({ length: rounds }, () => accounts).flat();
  return Promise.all(
    calls.map(async (account, index) => {
      if (index % 2 === 0) {
        const answer = await callRest(suite.server.url, 'GET', '/auth/me', undefined, account.token);
        return { account, status: answer.status, email: answer.body.email };
      }
      const client = createGen3dClient({
        url: suite.server.url,
        headers: () => ({ authorization: `Bearer ${account.token}` }),
      });
      const me = await client.auth.me.query().then(
        (answer) => ({ status: 200, email: answer.email }),
        () => ({ status: 401, email: undefined }),
      );
      return { account, ...me };
    }),
  );
}

describe('authenticated requests arriving together', () => {
  it('each see their own account, and a deactivation is seen by every request after it', async () => {
    const admin = await signInNewAdmin(suite.server);
    const users = await Promise.all(
      ['ana', 'ben', 'cho', 'dev', 'eli'].map((name) =>
        signInNewUser(suite.server, admin, `${name}@example.com`),
      ),
    );
    const everyone = [admin, ...users];

    for (const answer of await everyoneAsksForThemselves(everyone, 8)) {
      expect(answer.status).toBe(200);
      expect(answer.email).toBe(answer.account.email);
    }

    const [ana] = users as [SignedIn];
    const deactivated = await callRest(
      suite.server.url,
      'PATCH',
      `/users/${ana.id}`,
      { active: false },
      admin.token,
    );
    expect(deactivated.status).toBe(200);
    for (const answer of await everyoneAsksForThemselves(everyone, 8)) {
      expect(answer.status).toBe(answer.account === ana ? 401 : 200);
      if (answer.account !== ana) expect(answer.email).toBe(answer.account.email);
    }
  });
});
