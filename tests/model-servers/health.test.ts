import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TModelServerHealth } from '@gen3d/shared';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { startHunyuan3dServer, type Hunyuan3dServer } from '../support/contracts/hunyuan3d-server.js';
import { startMeshyServer, type MeshyServer } from '../support/contracts/meshy-server.js';
import { startShapEServer, type ShapEServer } from '../support/contracts/shap-e-server.js';
import { startTestDatabase, type TestDatabase } from '../support/database.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Every adapter's check against its contract double, through GET /api/admin/model-servers.
let database: TestDatabase;
let shapE: ShapEServer;
let hunyuan: Hunyuan3dServer;
let meshy: MeshyServer;
let server: TestServer;
let admin: SignedIn;

beforeAll(async () => {
  database = await startTestDatabase();
  [shapE, hunyuan, meshy] = await Promise.all([
    startShapEServer(),
    startHunyuan3dServer(),
    startMeshyServer(),
  ]);
  server = await startTestServer(database, {
    env: {
      AUTH_RATE_LIMIT_MAX: '1000',
      SHAP_E_URL: shapE.url,
      HUNYUAN3D_URL: hunyuan.url,
      MESHY_URL: meshy.url,
      MESHY_API_KEY: meshy.apiKey,
      DEFAULT_MODEL_SERVER: 'hunyuan3d',
    },
  });
  admin = await signInNewAdmin(server);
});

afterAll(async () => {
  await server.close();
  await Promise.all([shapE.close(), hunyuan.close(), meshy.close()]);
  await database.stop();
});

async function health(token: string): Promise<Map<string, TModelServerHealth>> {
  const answer = await callRest(server.url, 'GET', '/admin/model-servers', undefined, token);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const entries = answer.body as unknown as TModelServerHealth[];
  return new Map(entries.map((entry) => [entry.name, entry]));
}

describe('GET /api/admin/model-servers', () => {
  it('checks every configured model server without starting a task, and reports Meshy credits', async () => {
    meshy.balance = 742;
    const found = await health(admin.token);
    expect([...found.keys()].sort()).toEqual(['hunyuan3d', 'meshy', 'reference', 'shap-e']);
    for (const entry of found.values())
      expect(entry, entry.name).toMatchObject({ ok: true, error: null, latencyMs: expect.any(Number) });
    expect(found.get('reference')).toMatchObject({ detail: 'procedural', isDefault: false });
    expect(found.get('hunyuan3d')?.isDefault).toBe(true);
    expect(found.get('meshy')?.credits).toBe(742);
    // The checks asked, and started nothing.
    expect(shapE.requests.some((request) => request.path === '/health')).toBe(true);
    expect(hunyuan.requests.filter((request) => request.method === 'POST')).toEqual([]);
    expect(meshy.requests.filter((request) => request.method === 'POST')).toEqual([]);
  });

  it('says why a check failed: a refused key (never shown), an unreachable server', async () => {
    const configuredKey = meshy.apiKey;
    meshy.apiKey = 'msy_rotated_key';
    await shapE.close();
    try {
      const answer = await callRest(server.url, 'GET', '/admin/model-servers', undefined, admin.token);
      expect(JSON.stringify(answer.body)).not.toContain(configuredKey);
      const found = new Map(
        (answer.body as unknown as TModelServerHealth[]).map((entry) => [entry.name, entry]),
      );
      expect(found.get('meshy')).toMatchObject({
        ok: false,
        credits: null,
        error: { code: 'MODEL_SERVER_REJECTED', message: expect.stringContaining('API key') },
      });
      expect(found.get('shap-e')).toMatchObject({ ok: false, error: { code: 'MODEL_SERVER_UNREACHABLE' } });
      expect(found.get('reference')?.ok).toBe(true);
    } finally {
      meshy.apiKey = configuredKey;
    }
  });

  it('is for admins and moderators only', async () => {
    const user = await signInNewUser(server, admin, 'curious@example.com');
    const answer = await callRest(server.url, 'GET', '/admin/model-servers', undefined, user.token);
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('FORBIDDEN');
  });
});
