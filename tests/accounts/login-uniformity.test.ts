import { beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, STRONG_PASSWORD } from '../support/accounts.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';
import { median, sameWorkTolerance, timed } from '../support/timing.js';

const suite = useTestServer({
  mail: true,
  env: { AUTH_RATE_LIMIT_MAX: '1000', AUTH_RATE_LIMIT_IP_MAX: '100000' },
});

/** Below the lock threshold (10), so every answer is the password check's own. */
const ATTEMPTS_PER_EMAIL = 6;
const EMAILS_PER_KIND = 3;

const kinds = ['existing', 'pending', 'unknown'] as const;
type Kind = (typeof kinds)[number];
const emails: Record<Kind, string[]> = { existing: [], pending: [], unknown: [] };

beforeAll(async () => {
  const admin = await signInNewAdmin(suite.server);
  for (let index = 0; index < EMAILS_PER_KIND; index += 1) {
    const existing = await signInNewUser(suite.server, admin, `known-${index}@example.com`);
    emails.existing.push(existing.email);
    const pending = `pending-${index}@example.com`;
    const registered = await callRest(suite.server.url, 'POST', '/auth/register', {
      email: pending,
      userName: 'pending',
      password: STRONG_PASSWORD,
    });
    expect(registered.status).toBe(200);
    emails.pending.push(pending);
    emails.unknown.push(`nobody-${index}@example.com`);
  }
});

describe('a failed login (checklist 1 and 5)', () => {
  it('answers an unknown, a pending and an existing email alike: status, body and time', async () => {
    const answers = new Set<string>();
    const latencies: Record<Kind, number[]> = { existing: [], pending: [], unknown: [] };
    // Interleaved, so a busy moment of the machine falls on every kind alike.
    for (let attempt = 0; attempt < ATTEMPTS_PER_EMAIL; attempt += 1)
      for (let index = 0; index < EMAILS_PER_KIND; index += 1)
        for (const kind of kinds) {
          let answer: Awaited<ReturnType<typeof callRest>> | undefined;
          latencies[kind].push(
            await timed(async () => {
              answer = await callRest(suite.server.url, 'POST', '/auth/login', {
                email: emails[kind][index],
                password: `not it, attempt ${attempt}`,
              });
            }),
          );
          // Every answer has its own request id; the rest must not differ.
          const { requestId, ...rest } = answer?.body ?? {};
          expect(requestId).toEqual(expect.any(String));
          answers.add(JSON.stringify([answer?.status, rest]));
        }
    expect([...answers]).toEqual([
      JSON.stringify([
        401,
        { error: 'Email or password is incorrect', code: 'INVALID_CREDENTIALS', statusCode: 401 },
      ]),
    ]);
    const [existing, pending, unknown] = kinds.map((kind) => median(latencies[kind])) as [
      number,
      number,
      number,
    ];
    const shown = `medians: existing ${existing.toFixed(1)}, pending ${pending.toFixed(1)}, unknown ${unknown.toFixed(1)} ms`;
    expect(Math.abs(existing - unknown), shown).toBeLessThan(sameWorkTolerance(existing, unknown));
    expect(Math.abs(existing - pending), shown).toBeLessThan(sameWorkTolerance(existing, pending));
  });
});
