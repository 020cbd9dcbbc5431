import { describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { clientFor } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const open = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' } });
const strict = useTestServer({
  env: {
    AUTH_RATE_LIMIT_MAX: '1000',
    JOBS_DAILY_QUOTA: '3',
    GENERATION_RATE_LIMIT_MAX: '8',
    WORKER_CONCURRENCY: '0',
  },
});

describe('generation.create input', () => {
  it('refuses bad prompts and options with 400 and writes nothing', async () => {
    const admin = await signInNewAdmin(open.server);
    const user = await signInNewUser(open.server, admin, 'val@example.com');
    const bad: Array<[unknown, string]> = [
      [{ prompt: '' }, 'prompt'],
      [{ prompt: 'x'.repeat(601) }, 'prompt'],
      [{ prompt: { $gt: '' } }, 'prompt'],
      [{ prompt: 'a cube', params: { seed: -1 } }, 'params.seed'],
      [{ prompt: 'a cube', params: { quality: 'ultra' } }, 'params.quality'],
      [{ prompt: 'a cube', params: { colour: 'red' } }, 'params'],
      [{ prompt: 'a cube', chatId: 'not-an-id' }, 'chatId'],
    ];
    for (const [body, path] of bad) {
      const answer = await callRest(open.server.url, 'POST', '/jobs', body, user.token);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(answer.body.issues)).toContain(path);
    }
    const unknownServer = await callRest(
      open.server.url,
      'POST',
      '/jobs',
      { prompt: 'a cube', params: { modelServer: 'dall-e' } },
      user.token,
    );
    expect(unknownServer.status).toBe(400);
    expect(unknownServer.body.error).toContain('reference');
    const foreignChat = await callRest(
      open.server.url,
      'POST',
      '/jobs',
      { prompt: 'a cube', chatId: '0123456789abcdef01234567' },
      user.token,
    );
    expect(foreignChat.status).toBe(404);
    expect((await callRest(open.server.url, 'GET', '/jobs', undefined, user.token)).body).toEqual([]);
    expect((await callRest(open.server.url, 'GET', '/chats', undefined, user.token)).body).toEqual([]);
  });

  it('returns the same job for the same idempotency key (body or Idempotency-Key header)', async () => {
    const user = await signInNewUser(
      open.server,
      await signInNewAdmin(open.server, 'root-idem@example.com'),
      'idem@example.com',
    );
    const first = await callRest(
      open.server.url,
      'POST',
      '/jobs',
      { prompt: 'a cube', idempotencyKey: 'order-17' },
      user.token,
    );
    const again = await callRest(
      open.server.url,
      'POST',
      '/jobs',
      { prompt: 'a cube', idempotencyKey: 'order-17' },
      user.token,
    );
    expect(again.body.id).toBe(first.body.id);
    const viaHeader = async () => {
      const response = await fetch(`${open.server.url}/api/jobs`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${user.token}`,
          'idempotency-key': 'order-18',
        },
        body: JSON.stringify({ prompt: 'a sphere' }),
      });
      return ((await response.json()) as TJob).id;
    };
    const [a, b] = await Promise.all([viaHeader(), viaHeader()]);
    expect(a).toBe(b);
    const jobs = (await callRest(open.server.url, 'GET', '/jobs', undefined, user.token))
      .body as unknown as TJob[];
    expect(jobs).toHaveLength(2);
    const chats = (await callRest(open.server.url, 'GET', '/chats', undefined, user.token))
      .body as unknown as Array<{ id: string; lastMessageAt: string | null }>;
    const prompts = await Promise.all(
      chats.map(
        async (chat) =>
          (await callRest(open.server.url, 'GET', `/messages?chatId=${chat.id}`, undefined, user.token))
            .body as unknown as unknown[],
      ),
    );
    expect(prompts.flat().filter((message) => (message as { role: string }).role === 'user')).toHaveLength(2);
    // When both requests made a chat, the loser's prompt was taken back: its chat has no latest message.
    expect(chats.map((chat) => chat.lastMessageAt !== null)).toEqual(
      prompts.map((messages) => messages.length > 0),
    );
  });

  it('generate blocks until the files exist and answers them by format', async () => {
    const user = await signInNewUser(
      open.server,
      await signInNewAdmin(open.server, 'root-gen@example.com'),
      'gen@example.com',
    );
    const answer = await callRest(
      open.server.url,
      'POST',
      '/generate',
      { prompt: 'a gold ring', seed: 3 },
      user.token,
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(Object.keys(answer.body.files as object).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    expect(answer.body.assets).toHaveLength(4);
    const ply = await fetch((answer.body.files as { ply: string }).ply);
    expect((await ply.arrayBuffer()).byteLength).toBeGreaterThan(100);
    const viaSdk = await clientFor(open.server, user).generation.generate.mutate({
      prompt: 'a gold ring',
      seed: 3,
    });
    expect(viaSdk.assets.find((asset) => asset.format === 'glb')?.id).not.toBe(
      (answer.body.assets as Array<{ id: string; format: string }>).find((asset) => asset.format === 'glb')
        ?.id,
    );
  });
});

describe('generation limits', () => {
  it('enforces the daily quota and the generation rate limit with 429 and Retry-After', async () => {
    const admin = await signInNewAdmin(strict.server);
    const heavy = await signInNewUser(strict.server, admin, 'heavy@example.com');
    for (let index = 0; index < 3; index += 1)
      expect(
        (await callRest(strict.server.url, 'POST', '/jobs', { prompt: `cube ${index}` }, heavy.token)).status,
      ).toBe(201);
    const overQuota = await callRest(
      strict.server.url,
      'POST',
      '/jobs',
      { prompt: 'one too many' },
      heavy.token,
    );
    expect(overQuota.status).toBe(429);
    expect(overQuota.body.code).toBe('QUOTA_EXCEEDED');
    expect(Number(overQuota.headers.get('retry-after'))).toBeGreaterThan(0);

    const other = await signInNewUser(strict.server, admin, 'other@example.com');
    const statuses: number[] = [];
    for (let index = 0; index < 8; index += 1)
      statuses.push(
        (
          await callRest(
            strict.server.url,
            'POST',
            '/jobs',
            { prompt: 'x', idempotencyKey: `k${index}` },
            other.token,
          )
        ).status,
      );
    expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
    // GENERATION_RATE_LIMIT_MAX=8 per user: the ninth call in the window is refused.
    const limited = await callRest(strict.server.url, 'POST', '/jobs', { prompt: 'x' }, other.token);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // A third user on the same address has their own count; the address allows ten users' worth.
    const colleague = await signInNewUser(strict.server, admin, 'colleague@example.com');
    expect(
      (await callRest(strict.server.url, 'POST', '/jobs', { prompt: 'a first cube' }, colleague.token))
        .status,
    ).toBe(201);
  });
});
