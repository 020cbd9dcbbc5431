import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { generateModelFiles } from '@gen3d/server';

import {
  sendFile,
  sendJson,
  sendTruncated,
  startContractServer,
  type ContractServer,
} from './contract-server.js';

export interface ShapEFaults {
  /** Answer this many generate calls with 500. */
  failGenerates?: number;
  /** Answer generate calls with malformed JSON. */
  garbageAnswer?: boolean;
  /** Never answer generate calls. */
  hang?: boolean;
  /** Serve GLB files cut short. */
  truncateGlb?: boolean;
  /** Formats whose files are missing (404). */
  missing?: Array<'glb' | 'obj' | 'mtl' | 'ply'>;
}

export interface ShapEServer extends ContractServer {
  faults: ShapEFaults;
  /** How long a generation takes before `POST /generate3D` answers. */
  generateMs: number;
  /** The files served per generation id, as written. */
  files: Map<string, Map<string, Uint8Array>>;
}

/**
 * The product's earlier Shap-E model server, as its contract says: `POST /generate3D {prompt, guidanceScale,
 * steps, frameSize}` answers `{id}` once the meshes are written (synchronously), then
 * `GET /data/assets/{id}/mesh.{glb,obj,mtl,ply}` serves them; `GET /health`. Errors look like FastAPI's.
 */
export async function startShapEServer(): Promise<ShapEServer> {
  const files = new Map<string, Map<string, Uint8Array>>();
  const state = { faults: {} as ShapEFaults, generateMs: 0, files };
  const contract = await startContractServer(async (request, response) => {
    const { faults } = state;
    if (request.method === 'GET' && request.path === '/health')
      return sendJson(response, 200, { status: 'ok' });
    if (request.method === 'POST' && request.path === '/generate3D') {
      const body = request.body as
        { prompt?: unknown; guidanceScale?: unknown; steps?: unknown; frameSize?: unknown } | undefined;
      if (
        typeof body?.prompt !== 'string' ||
        typeof body.guidanceScale !== 'number' ||
        typeof body.steps !== 'number' ||
        typeof body.frameSize !== 'number'
      ) {
        return sendJson(response, 422, {
          detail: [{ loc: ['body'], msg: 'field required', type: 'value_error.missing' }],
        });
      }
      if (faults.hang) return;
      if ((faults.failGenerates ?? 0) > 0) {
        faults.failGenerates = (faults.failGenerates ?? 0) - 1;
        return sendJson(response, 500, { detail: 'CUDA out of memory' });
      }
      if (state.generateMs > 0) await sleep(state.generateMs);
      if (faults.garbageAnswer) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"id": ');
        return;
      }
      const id = randomUUID();
      const model = await generateModelFiles(body.prompt, 0, 'draft');
      files.set(id, new Map(model.files.map((file) => [file.name, file.bytes])));
      return sendJson(response, 200, { id });
    }
    const file = /^\/data\/assets\/([^/]+)\/mesh\.(glb|obj|mtl|ply)$/.exec(request.path);
    if (request.method === 'GET' && file) {
      const [, id, format] = file as unknown as [string, string, 'glb' | 'obj' | 'mtl' | 'ply'];
      const bytes = files.get(id)?.get(`mesh.${format}`);
      if (!bytes || faults.missing?.includes(format)) return sendJson(response, 404, { detail: 'Not Found' });
      if (format === 'glb' && faults.truncateGlb) return sendTruncated(response, bytes);
      return sendFile(response, bytes);
    }
    return sendJson(response, 404, { detail: 'Not Found' });
  });
  return Object.assign(state, contract);
}
