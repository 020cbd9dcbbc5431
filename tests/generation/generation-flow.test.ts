import { describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { clientFor, followJob } from '../support/generation.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' }, modelDurationMs: 300 });

describe('generation: prompt -> job -> assets -> message', () => {
  it('turns a prompt into downloadable glb, obj+mtl and ply files attached to an assistant message', async () => {
    const admin = await signInNewAdmin(suite.server);
    const ana = await signInNewUser(suite.server, admin, 'ana@example.com');
    const client = clientFor(suite.server, ana);

    const queued = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a red cube on a blue sphere', params: { seed: 7 } },
      ana.token,
    );
    expect(queued.status, JSON.stringify(queued.body)).toBe(201);
    expect(queued.body).toMatchObject({
      status: 'queued',
      prompt: 'a red cube on a blue sphere',
      params: { seed: 7, quality: 'standard', modelServer: 'reference' },
    });
    const jobId = String(queued.body.id);

    const updates = await followJob(client, jobId);
    const final = updates.at(-1);
    expect(final?.status, JSON.stringify(final)).toBe('succeeded');
    expect(
      updates.some((update) => update.status === 'running' && update.progress > 0 && update.progress < 100),
    ).toBe(true);
    expect(final?.outputs.map((output) => output.format).sort()).toEqual(['glb', 'mtl', 'obj', 'ply']);

    const glb = final?.outputs.find((output) => output.format === 'glb');
    const download = await fetch(glb?.url as string);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('model/gltf-binary');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('glTF');

    const messages = await callRest(
      suite.server.url,
      'GET',
      `/messages?chatId=${String(queued.body.chatId)}`,
      undefined,
      ana.token,
    );
    const list = messages.body as unknown as Array<{
      role: string;
      type: string;
      content: string;
      attachments: unknown[];
    }>;
    expect(list.map((message) => [message.role, message.type])).toEqual([
      ['user', 'text'],
      ['assistant', 'model'],
    ]);
    expect(list[1]?.attachments).toHaveLength(4);
  });
});
