import { describe, expect, it } from 'vitest';

import { createGen3dClient } from '@gen3d/client';
import { ZSystemInfo } from '@gen3d/shared';

import { jsonOf, useTestServer } from '../support/server.js';

const suite = useTestServer();

describe('system.info', () => {
  it('answers through the typed client over tRPC', async () => {
    const client = createGen3dClient({ url: suite.server.url });
    const info = await client.system.info.query();
    expect(info.name).toBe('gen3d');
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.database).toEqual({ kind: suite.database.kind, reachable: true });
    expect(info.modelServers).toEqual({ default: 'reference', available: ['reference'] });
    expect(Date.parse(info.startedAt)).toBeLessThanOrEqual(Date.now());
  });

  it('answers the same through REST at GET /api/system/info', async () => {
    const response = await fetch(`${suite.server.url}/api/system/info`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = ZSystemInfo.parse(await jsonOf(response));
    expect(body.database.kind).toBe(suite.database.kind);
  });

  it('batches several calls into one HTTP request', async () => {
    let requests = 0;
    const client = createGen3dClient({
      url: suite.server.url,
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    const [a, b] = await Promise.all([client.system.info.query(), client.system.info.query()]);
    expect(a.startedAt).toBe(b.startedAt);
    expect(requests).toBe(1);
  });
});
