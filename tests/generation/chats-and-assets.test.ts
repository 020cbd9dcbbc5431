import { existsSync } from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import type { TAsset, TChat, TJob, TMessage } from '@gen3d/client';
import { createAssetUrlSigner } from '@gen3d/server';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' } });
let ana: SignedIn;
let ben: SignedIn;
let job: TJob;

beforeAll(async () => {
  const admin = await signInNewAdmin(suite.server);
  ana = await signInNewUser(suite.server, admin, 'ana@example.com');
  ben = await signInNewUser(suite.server, admin, 'ben@example.com');
  const created = await callRest(
    suite.server.url,
    'POST',
    '/jobs',
    { prompt: 'two blue cylinders' },
    ana.token,
  );
  job = (await followJob(clientFor(suite.server, ana), String(created.body.id))).at(-1) as TJob;
  expect(job.status).toBe('succeeded');
});

const rest = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, who: SignedIn) =>
  callRest(suite.server.url, method, path, body, who.token);

describe('chats and messages', () => {
  it('create, list newest first, rename; messages in order with pages and cursors', async () => {
    const first = await rest('POST', '/chats', { title: 'Old chat' }, ana);
    expect(first.status).toBe(201);
    const second = await rest('POST', '/chats', { title: 'New chat' }, ana);
    const chats = (await rest('GET', '/chats', undefined, ana)).body as unknown as TChat[];
    expect(chats.slice(0, 2).map((chat) => chat.title)).toEqual(['New chat', 'Old chat']);
    const renamed = await rest('PATCH', `/chats/${String(first.body.id)}`, { title: 'Renamed' }, ana);
    expect(renamed.body).toMatchObject({ title: 'Renamed' });
    expect((await rest('PATCH', `/chats/${String(first.body.id)}`, { title: '' }, ana)).status).toBe(400);

    const chatId = String(second.body.id);
    for (let index = 1; index <= 7; index += 1)
      expect((await rest('POST', '/messages', { chatId, content: `message ${index}` }, ana)).status).toBe(
        201,
      );
    const contents = (body: unknown) => (body as TMessage[]).map((message) => message.content);
    expect(
      contents((await rest('GET', `/messages?chatId=${chatId}&page=2&limit=3`, undefined, ana)).body),
    ).toEqual(['message 4', 'message 5', 'message 6']);
    const all = (await rest('GET', `/messages?chatId=${chatId}&limit=200`, undefined, ana))
      .body as unknown as TMessage[];
    expect(contents(all)).toEqual([
      'message 1',
      'message 2',
      'message 3',
      'message 4',
      'message 5',
      'message 6',
      'message 7',
    ]);
    expect(
      contents(
        (await rest('GET', `/messages?chatId=${chatId}&after=${all[4]?.id}&limit=5`, undefined, ana)).body,
      ),
    ).toEqual(['message 6', 'message 7']);
    expect(
      contents(
        (await rest('GET', `/messages?chatId=${chatId}&before=${all[4]?.id}&limit=2`, undefined, ana)).body,
      ),
    ).toEqual(['message 3', 'message 4']);
    expect((await rest('GET', `/messages?chatId=${chatId}&limit=201`, undefined, ana)).status).toBe(400);
    const touched = ((await rest('GET', '/chats', undefined, ana)).body as unknown as TChat[]).find(
      (chat) => chat.id === chatId,
    );
    expect(touched?.lastMessageAt).not.toBeNull();
  });

  it('accepts only the caller’s own assets as attachments, and hides other users’ chats', async () => {
    const chat = await rest('POST', '/chats', { title: 'Attachments' }, ana);
    const chatId = String(chat.body.id);
    const glb = job.outputs.find((output) => output.format === 'glb');
    const attached = await rest(
      'POST',
      '/messages',
      { chatId, role: 'user', type: 'model', content: 'look', attachments: [{ assetId: glb?.assetId }] },
      ana,
    );
    expect(attached.status).toBe(201);
    expect(attached.body.attachments).toEqual([
      expect.objectContaining({
        assetId: glb?.assetId,
        kind: 'model',
        format: 'glb',
        url: expect.stringContaining('/assets/'),
      }),
    ]);

    const benChat = await rest('POST', '/chats', { title: "Ben's" }, ben);
    const stolen = await rest(
      'POST',
      '/messages',
      { chatId: String(benChat.body.id), content: 'mine now', attachments: [{ assetId: glb?.assetId }] },
      ben,
    );
    expect(stolen.status).toBe(404);
    for (const [method, path, body] of [
      ['GET', `/messages?chatId=${chatId}`, undefined],
      ['POST', '/messages', { chatId, content: 'hello' }],
      ['PATCH', `/chats/${chatId}`, { title: 'mine' }],
      ['DELETE', `/chats/${chatId}`, undefined],
      ['GET', `/jobs/${job.id}`, undefined],
    ] as const) {
      expect((await rest(method, path, body, ben)).status, `${method} ${path}`).toBe(404);
    }
    expect((await rest('GET', `/assets?jobId=${job.id}`, undefined, ben)).body).toEqual([]);
  });
});

describe('asset downloads', () => {
  it('serves signed URLs with content types, ETag, conditional requests and byte ranges', async () => {
    const assets = (await rest('GET', `/assets?jobId=${job.id}`, undefined, ana)).body as unknown as TAsset[];
    expect(assets.map((asset) => asset.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);
    const obj = assets.find((asset) => asset.format === 'obj') as TAsset;
    expect(obj).toMatchObject({
      contentType: 'model/obj',
      kind: 'model',
      vertices: expect.any(Number),
      triangles: expect.any(Number),
    });
    const full = await fetch(obj.url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('model/obj');
    expect(full.headers.get('cache-control')).toMatch(/^private, max-age=\d+/);
    // Named and typed so no browser sniffs it into a page.
    expect(full.headers.get('x-content-type-options')).toBe('nosniff');
    expect(full.headers.get('content-disposition')).toMatch(/^inline; filename="[\w.-]+\.obj"$/);
    const head = await fetch(obj.url, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type')]).toEqual([200, 'model/obj']);
    expect(head.headers.get('content-disposition')).toBe(full.headers.get('content-disposition'));
    const etag = full.headers.get('etag') as string;
    expect(etag).toBe(`"${obj.sha256}"`);
    const text = await full.text();
    expect(text.length).toBe(obj.bytes);

    expect((await fetch(obj.url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const part = await fetch(obj.url, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${obj.bytes}`);
    expect(await part.text()).toBe(text.slice(10, 20));
    const outside = await fetch(obj.url, { headers: { range: `bytes=${obj.bytes + 10}-` } });
    expect(outside.status).toBe(416);
  });

  it('refuses tampered, foreign and expired URLs', async () => {
    const [glb] = (
      (await rest('GET', `/assets?jobId=${job.id}`, undefined, ana)).body as unknown as TAsset[]
    ).filter((asset) => asset.format === 'glb');
    const url = new URL(glb?.url as string);
    const expectCode = async (target: string, status: number, code: string) => {
      const answer = await fetch(target);
      expect(answer.status, target).toBe(status);
      expect(((await answer.json()) as { code: string }).code).toBe(code);
    };
    const longer = new URL(url);
    longer.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    await expectCode(longer.toString(), 403, 'ASSET_URL_INVALID');
    const otherFile = url.toString().replace('/model.glb', '/model.obj');
    await expectCode(otherFile, 403, 'ASSET_URL_INVALID');
    await expectCode(
      `${url.origin}${url.pathname.replace('model.glb', '..%2F..%2Fetc%2Fpasswd')}${url.search}`,
      403,
      'ASSET_URL_INVALID',
    );
    await expectCode(`${url.origin}${url.pathname}`, 403, 'ASSET_URL_INVALID');
    const expired = createAssetUrlSigner(
      suite.server.config.jwtSecret,
      suite.server.config.publicUrl,
      -120,
    ).sign(glb?.id as string, 'model.glb');
    await expectCode(expired.url, 403, 'ASSET_URL_EXPIRED');
  });
});

describe('chats.delete', () => {
  it('deletes the chat with its messages, its unfinished jobs and its assets’ files', async () => {
    const created = await rest('POST', '/jobs', { prompt: 'a pink torus' }, ana);
    const done = (await followJob(clientFor(suite.server, ana), String(created.body.id))).at(-1) as TJob;
    const chatId = String(done.chatId);
    const files = (
      (await rest('GET', `/assets?jobId=${done.id}`, undefined, ana)).body as unknown as TAsset[]
    ).map((asset) => `${suite.server.config.assets.dir}/${ana.id}/${asset.id}/${asset.fileName}`);
    expect(files.every((file) => existsSync(file))).toBe(true);
    const deleted = await rest('DELETE', `/chats/${chatId}`, undefined, ana);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ ok: true, deleted: { messages: 2, assets: 4, canceledJobs: 0 } });
    expect(files.some((file) => existsSync(file))).toBe(false);
    expect((await rest('GET', `/messages?chatId=${chatId}`, undefined, ana)).status).toBe(404);
    expect((await rest('GET', `/assets?jobId=${done.id}`, undefined, ana)).body).toEqual([]);
    expect((await fetch(done.outputs[0]?.url as string)).status).toBe(404);
  });
});
