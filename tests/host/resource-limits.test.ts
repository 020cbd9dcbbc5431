import { connect } from 'node:net';

import { describe, expect, it, vi } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { glbWithHeavyJson } from '../support/hostile-meshes.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const limits = useTestServer({
  env: {
    TRPC_MAX_BATCH_SIZE: '5',
    AUTH_RATE_LIMIT_MAX: '4',
    STREAMS_MAX_PER_USER: '3',
    STREAMS_MAX_PER_ADDRESS: '4',
    USER_MAX_CHATS: '3',
    USER_MAX_MESSAGES: '4',
    USER_MAX_ASSET_MB: '1',
  },
});

/** One tRPC batch over HTTP: the procedures comma-separated, inputs keyed by position. */
async function trpcBatch(
  url: string,
  procedures: string[],
  inputs: unknown[],
  token: string,
  method: 'GET' | 'POST' = 'POST',
) {
  const keyed = Object.fromEntries(inputs.map((input, index) => [String(index), input]));
  const path = `${url}/trpc/${procedures.join(',')}?batch=1`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const response =
    method === 'GET'
      ? await fetch(`${path}&input=${encodeURIComponent(JSON.stringify(keyed))}`, { headers })
      : await fetch(path, { method, headers, body: JSON.stringify(keyed) });
  return { status: response.status, body: (await response.json()) as unknown };
}

const errorCodesOf = (body: unknown): string[] =>
  (body as Array<{ error?: { data?: { code?: string } } }>).map((entry) => entry.error?.data?.code ?? 'OK');

describe('tRPC batches', () => {
  let admin: SignedIn;

  it('refuses a batch of more calls than TRPC_MAX_BATCH_SIZE before judging any of them', async () => {
    admin = await signInNewAdmin(limits.server);
    const calls = Array.from({ length: 60 }, (_, index) => ({
      currentPassword: `wrong password ${index}`,
      newPassword: 'a new password 123',
    }));
    const answer = await trpcBatch(
      limits.server.url,
      calls.map(() => 'auth.changePassword'),
      calls,
      admin.token,
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'BATCH_TOO_LARGE',
      error: 'A batch may carry at most 5 calls; this one carries 60',
    });
    // None of the 60 was judged: the account still has its whole password-check budget.
    const single = await callRest(
      limits.server.url,
      'POST',
      '/auth/change-password',
      { currentPassword: 'wrong once', newPassword: 'a new password 123' },
      admin.token,
    );
    expect(single.status).toBe(401);
  });

  it('reads a batch as tRPC does, whatever else the query string holds', async () => {
    const calls = Array.from({ length: 60 }, () => 'system.info');
    const response = await fetch(`${limits.server.url}/trpc/${calls.join(',')}?x=?&batch=1`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'BATCH_TOO_LARGE' });
  });

  it('lets the calls of one batch pass a storage cap no further than calls one after another', async () => {
    const creator = await signInNewUser(limits.server, admin, 'batch-creator@example.com');
    const titles = Array.from({ length: 5 }, (_, index) => ({ title: `batched ${index}` }));
    const batch = await trpcBatch(
      limits.server.url,
      titles.map(() => 'chats.create'),
      titles,
      creator.token,
    );
    expect(errorCodesOf(batch.body).sort()).toEqual(['OK', 'OK', 'OK', 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED']);
  });

  it('holds a repeated input parameter to the depth cap (tRPC reads the first)', async () => {
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    const response = await fetch(
      `${limits.server.url}/trpc/chats.list?input=${encodeURIComponent(deep)}&input=1`,
      { headers: { authorization: `Bearer ${admin.token}` } },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'MALFORMED_BODY',
      error: 'The input is nested deeper than 32 levels',
    });
  });

  it('holds multipart bodies, which tRPC reads itself, to BODY_LIMIT_BYTES', async () => {
    const boundary = 'fuzzboundary';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\n${'x'.repeat(2_000_000)}\r\n--${boundary}--\r\n`;
    const response = await fetch(`${limits.server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(response.status).toBe(413);
  });

  it('counts every call that checks a password against the per-account limit, in a batch or alone', async () => {
    const user = await signInNewUser(limits.server, admin, 'guesser@example.com');
    const wrong = (index: number) => ({
      currentPassword: `wrong password ${index}`,
      newPassword: 'a new password 123',
    });
    const batch = await trpcBatch(
      limits.server.url,
      ['auth.changePassword', 'auth.changePassword', 'auth.changePassword'],
      [wrong(0), wrong(1), wrong(2)],
      user.token,
    );
    expect(errorCodesOf(batch.body)).toEqual([
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
    ]);
    const statuses: number[] = [];
    for (let attempt = 3; attempt < 6; attempt += 1) {
      statuses.push(
        (await callRest(limits.server.url, 'POST', '/auth/change-password', wrong(attempt), user.token))
          .status,
      );
    }
    expect(statuses).toEqual([401, 429, 429]);
    // The right password is refused too while the account is limited.
    const right = await callRest(
      limits.server.url,
      'POST',
      '/auth/change-password',
      { currentPassword: 'user password 1', newPassword: 'a new password 123' },
      user.token,
    );
    expect(right.body).toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('the global request limit with batches', () => {
  const strict = useTestServer({ env: { RATE_LIMIT_MAX: '10', TRPC_MAX_BATCH_SIZE: '5' } });

  it('counts each call of a batch as a request of its own', async () => {
    const admin = await signInNewAdmin(strict.server);
    const statuses: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      const answer = await trpcBatch(
        strict.server.url,
        Array(5).fill('auth.me'),
        Array(5).fill(undefined),
        admin.token,
        'GET',
      );
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('live-progress streams', () => {
  it('refuses a stream past STREAMS_MAX_PER_USER with TOO_MANY_STREAMS (429), and frees the slot when a stream closes', async () => {
    const admin = await signInNewAdmin(limits.server, 'streams-admin@example.com');
    const user = await signInNewUser(limits.server, admin, 'watcher@example.com');
    const open = async () => {
      const controller = new AbortController();
      const response = await fetch(
        `${limits.server.url}/trpc/generation.watch?input=${encodeURIComponent('{}')}`,
        {
          headers: { authorization: `Bearer ${user.token}`, accept: 'text/event-stream' },
          signal: controller.signal,
        },
      );
      return { response, close: () => controller.abort() };
    };
    const streams = [await open(), await open(), await open()];
    expect(streams.map((stream) => stream.response.status)).toEqual([200, 200, 200]);
    // tRPC answers subscriptions as SSE: the refusal is the stream's one event, an error, and the stream ends.
    const refused = await open();
    const events = await refused.response.text();
    expect(events).toMatch(/event: serialized-error/);
    expect(events).toMatch(/"httpStatus":429,.*"code":"TOO_MANY_STREAMS"/);
    streams[0]?.close();
    // The slot is free once the server has seen the stream close: a new stream is accepted and kept open.
    const reopened = await vi.waitFor(async () => {
      const again = await open();
      const first = new TextDecoder().decode((await again.response.body?.getReader().read())?.value);
      if (first.includes('serialized-error')) again.close();
      expect(first).not.toMatch(/serialized-error/);
      return again;
    });
    streams.push(reopened);
    // Another account at the same address (the first holds 3): one more fits the address's cap of 4, the next does not.
    const neighbour = await signInNewUser(limits.server, admin, 'neighbour@example.com');
    const openAs = (token: string) =>
      fetch(`${limits.server.url}/trpc/generation.watch?input=${encodeURIComponent('{}')}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      });
    const fits = await openAs(neighbour.token);
    const first = new TextDecoder().decode((await fits.body?.getReader().read())?.value);
    expect(first).not.toMatch(/serialized-error/);
    const beyond = await (await openAs(neighbour.token)).text();
    expect(beyond).toMatch(/Your address already holds 4 live streams/);
    await fits.body?.cancel().catch(() => undefined);
    for (const stream of streams) stream.close();
  });

  it('holds no slot for a stream whose client left before it started', async () => {
    const admin = await signInNewAdmin(limits.server, 'leaver-admin@example.com');
    const leaver = await signInNewUser(limits.server, admin, 'leaver@example.com');
    const { port } = new URL(limits.server.url);
    for (let attempt = 0; attempt < 6; attempt += 1) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `GET /trpc/generation.watch?input=%7B%7D HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${leaver.token}\r\nAccept: text/event-stream\r\n\r\n`,
            () => {
              socket.destroy();
              resolve();
            },
          );
        });
      });
    }
    await vi.waitFor(async () => {
      const response = await fetch(
        `${limits.server.url}/trpc/generation.watch?input=${encodeURIComponent('{}')}`,
        { headers: { authorization: `Bearer ${leaver.token}`, accept: 'text/event-stream' } },
      );
      const first = new TextDecoder().decode((await response.body?.getReader().read())?.value);
      await response.body?.cancel().catch(() => undefined);
      expect(first).not.toMatch(/serialized-error/);
    });
  });
});

describe('what one account may keep', () => {
  it('refuses a chat past USER_MAX_CHATS and a message past USER_MAX_MESSAGES with 429 QUOTA_EXCEEDED', async () => {
    const admin = await signInNewAdmin(limits.server, 'caps-admin@example.com');
    const user = await signInNewUser(limits.server, admin, 'hoarder@example.com');
    const chats: Array<{ status: number; body: Record<string, unknown> }> = [];
    for (let index = 0; index < 4; index += 1)
      chats.push(await callRest(limits.server.url, 'POST', '/chats', { title: `chat ${index}` }, user.token));
    expect(chats.map((chat) => chat.status)).toEqual([201, 201, 201, 429]);
    expect(chats[3]?.body).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      error: expect.stringContaining('the most an account may keep (3)'),
    });

    const chatId = String(chats[0]?.body.id);
    const messages: number[] = [];
    for (let index = 0; index < 5; index += 1)
      messages.push(
        (
          await callRest(
            limits.server.url,
            'POST',
            '/messages',
            { chatId, content: 'x'.repeat(20_000) },
            user.token,
          )
        ).status,
      );
    expect(messages).toEqual([201, 201, 201, 201, 429]);
    // A job needs room for its prompt and its answer.
    const job = await callRest(
      limits.server.url,
      'POST',
      '/jobs',
      { prompt: 'one more fox', chatId },
      user.token,
    );
    expect(job.status).toBe(429);
    expect(job.body).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    // Deleting a chat makes room.
    expect(
      (await callRest(limits.server.url, 'DELETE', `/chats/${chatId}`, undefined, user.token)).status,
    ).toBe(200);
    expect(
      (await callRest(limits.server.url, 'POST', '/chats', { title: 'room again' }, user.token)).status,
    ).toBe(201);
  });

  it('refuses files past USER_MAX_ASSET_MB with 429 QUOTA_EXCEEDED, and counts deleted files out', async () => {
    const admin = await signInNewAdmin(limits.server, 'bytes-admin@example.com');
    const user = await signInNewUser(limits.server, admin, 'collector@example.com');
    // About 500 kB each: two fit in 1 MiB, a third does not.
    const file = glbWithHeavyJson(250_000).toString('base64');
    const chat = await callRest(limits.server.url, 'POST', '/chats', { title: 'files' }, user.token);
    const register = () =>
      callRest(
        limits.server.url,
        'POST',
        '/assets',
        { format: 'glb', data: file, userId: user.id, chatId: chat.body.id },
        admin.token,
      );
    const statuses: number[] = [];
    let last: Record<string, unknown> = {};
    for (let index = 0; index < 3; index += 1) {
      const answer = await register();
      statuses.push(answer.status);
      last = answer.body;
    }
    expect(statuses).toEqual([201, 201, 429]);
    expect(last).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      error: expect.stringContaining('of the 1 MiB an account may keep'),
    });
    // Deleting the chat deletes its files and gives the room back.
    expect(
      (await callRest(limits.server.url, 'DELETE', `/chats/${String(chat.body.id)}`, undefined, user.token))
        .body,
    ).toMatchObject({ deleted: { assets: 2 } });
    expect(
      (
        await callRest(
          limits.server.url,
          'POST',
          '/assets',
          { format: 'glb', data: file, userId: user.id },
          admin.token,
        )
      ).status,
    ).toBe(201);
  });
});
