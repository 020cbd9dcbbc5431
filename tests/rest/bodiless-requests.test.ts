import { describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { jsonOf, useTestServer } from '../support/server.js';

// Jobs stay running long enough to be canceled.
const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' }, modelDurationMs: 30_000 });

/** What fetch wrappers and axios do: the JSON content type on every call, with or without a body. */
async function call(method: string, path: string, who: SignedIn, body?: string) {
  const response = await fetch(`${suite.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, body: await jsonOf(response) };
}

describe('bodiless requests with a JSON content type (issue 16 item 2)', () => {
  it('are read as no body on REST: cancel a job, delete a chat, log out everywhere', async () => {
    const admin = await signInNewAdmin(suite.server);
    const user = await signInNewUser(suite.server, admin, 'axios@example.com');
    const chat = await call('POST', '/api/chats', user, JSON.stringify({ title: 'short-lived' }));
    expect(chat.status).toBe(201);
    const job = await call('POST', '/api/jobs', user, JSON.stringify({ prompt: 'a slow cube' }));
    expect(job.status).toBe(201);

    const canceled = await call('POST', `/api/jobs/${String(job.body.id)}/cancel`, user);
    // Canceling a running job is asked of its worker; the answer is the job.
    expect([canceled.status, canceled.body.id]).toEqual([200, job.body.id]);
    const deleted = await call('DELETE', `/api/chats/${String(chat.body.id)}`, user);
    expect([deleted.status, deleted.body.ok]).toEqual([200, true]);
    const left = (await call('GET', '/api/chats', user)).body as unknown as Array<{ id: string }>;
    expect(left.map(({ id }) => id)).not.toContain(chat.body.id);
    expect((await call('POST', '/api/auth/logout-all', user)).status).toBe(200);
  });

  it('are read as no body on tRPC too', async () => {
    const admin = await signInNewAdmin(suite.server, 'root2@example.com');
    const answer = await call('POST', '/trpc/auth.logoutEverywhere', admin);
    expect(answer).toMatchObject({ status: 200, body: { result: { data: { ok: true } } } });
  });

  it('still refuses a body that is not JSON, and asks for the fields a procedure needs', async () => {
    const admin = await signInNewAdmin(suite.server, 'root3@example.com');
    const blank = await call('POST', '/api/chats', admin, '   ');
    expect([blank.status, blank.body.code]).toEqual([400, 'MALFORMED_BODY']);
    const missing = await call('POST', '/api/messages', admin);
    expect([missing.status, missing.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});
