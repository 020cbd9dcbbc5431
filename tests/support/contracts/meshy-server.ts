import { createHash, randomUUID } from 'node:crypto';

import { generateModelFiles } from '@gen3d/server';

import {
  sendFile,
  sendJson,
  sendTruncated,
  startContractServer,
  type ContractServer,
} from './contract-server.js';

export interface MeshyFaults {
  /** Answer this many task creations with 429 and `Retry-After: 1`. */
  rateLimitCreates?: number;
  /** Answer this many status polls with 500. */
  failPolls?: number;
  /** Finish tasks as FAILED with a task_error. */
  failTasks?: boolean;
  /** Keep tasks IN_PROGRESS forever. */
  neverFinish?: boolean;
  /** Answer task creations with 402 (no credits left). */
  noCredits?: boolean;
  /** Answer status polls with malformed JSON. */
  garbagePolls?: boolean;
  /** Never answer status polls. */
  silentPolls?: boolean;
  /** Cut GLB downloads off halfway. */
  truncateGlb?: boolean;
  /** Put result links on this origin instead of the API's own. */
  resultOrigin?: string;
  /** Answer image-to-3D task creations with 400 and this message (an image Meshy cannot use). */
  refuseImages?: string;
}

export interface MeshyServer extends ContractServer {
  faults: MeshyFaults;
  /** The only key the server accepts. */
  apiKey: string;
  /** How long result links stay valid. */
  urlTtlMs: number;
  /** Credits `GET /openapi/v1/balance` reports. */
  balance: number;
  /** Ids of tasks deleted through the API. */
  deleted: Set<string>;
  /** The body of every accepted image-to-3D task creation, in arrival order. */
  imageTasks: Array<{ image_url: string; texture_prompt?: string; should_texture?: boolean }>;
}

interface Task {
  polls: number;
  files: Map<string, Uint8Array>;
}

const TASKS = '/openapi/v2/text-to-3d';
const IMAGE_TASKS = '/openapi/v1/image-to-3d';
/** The data URIs image-to-3D (v1) reads: JPEG and PNG, base64. */
const DATA_URI = /^data:image\/(png|jpeg);base64,([A-Za-z0-9+/]+={0,2})$/;
/** Status per poll: queued, then progress, then done. */
const PROGRESSION = [
  { status: 'PENDING', progress: 0 },
  { status: 'IN_PROGRESS', progress: 35 },
  { status: 'IN_PROGRESS', progress: 80 },
] as const;

/**
 * Meshy's text-to-3D API (v2, preview mode) as documented: Bearer API key; `POST /openapi/v2/text-to-3d`
 * answers 202 `{result: taskId}`; `GET .../{id}` answers the task (status, progress, model_urls with
 * expiring links, thumbnail_url, task_error); `DELETE .../{id}` deletes it; `GET /openapi/v1/balance`
 * answers `{balance}`; 429 carries Retry-After; errors are `{message}`. Results come as GLB, OBJ+MTL (no PLY).
 * Image to 3D (v1): `POST /openapi/v1/image-to-3d` takes `image_url` (here a JPEG or PNG data URI; anything
 * else is a 400 `{message}`) and an optional `texture_prompt`; its tasks are read and deleted at
 * `/openapi/v1/image-to-3d/{id}` and go through the same states with the same `model_urls`.
 */
export async function startMeshyServer(): Promise<MeshyServer> {
  const tasks = new Map<string, Task>();
  const state = {
    faults: {} as MeshyFaults,
    apiKey: 'msy_test_key_0123456789',
    urlTtlMs: 3_000,
    balance: 1000,
    deleted: new Set<string>(),
    imageTasks: [] as MeshyServer['imageTasks'],
  };
  let url = '';
  const link = (id: string, format: string): string =>
    `${state.faults.resultOrigin ?? url}/files/${id}/model.${format}?expires=${Date.now() + state.urlTtlMs}`;
  const contract = await startContractServer(async (request, response) => {
    const { faults } = state;
    const path = new URL(request.path, 'http://x');
    const file = /^\/files\/([^/]+)\/model\.(\w+)$/.exec(path.pathname);
    if (request.method === 'GET' && file) {
      if (Date.now() > Number(path.searchParams.get('expires'))) {
        response
          .writeHead(403, { 'content-type': 'application/xml' })
          .end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
        return;
      }
      const bytes = tasks.get(file[1] as string)?.files.get(file[2] as string);
      if (!bytes) return sendJson(response, 404, { message: 'Not Found' });
      if (faults.truncateGlb && file[2] === 'glb') return sendTruncated(response, bytes);
      return sendFile(response, bytes);
    }
    if (request.headers.authorization !== `Bearer ${state.apiKey}`)
      return sendJson(response, 401, { message: 'Invalid API key.' });
    if (request.method === 'GET' && path.pathname === '/openapi/v1/balance')
      return sendJson(response, 200, { balance: state.balance });
    if (request.method === 'POST' && path.pathname === TASKS) {
      const body = request.body as { mode?: unknown; prompt?: unknown; seed?: unknown } | undefined;
      if (body?.mode !== 'preview' || typeof body.prompt !== 'string' || body.prompt.length > 600)
        return sendJson(response, 400, {
          message: 'Invalid request: mode must be "preview" and prompt at most 600 characters.',
        });
      if ((faults.rateLimitCreates ?? 0) > 0) {
        faults.rateLimitCreates = (faults.rateLimitCreates ?? 0) - 1;
        return sendJson(response, 429, { message: 'Too many requests.' }, { 'retry-after': '1' });
      }
      if (faults.noCredits) return sendJson(response, 402, { message: 'Insufficient credits.' });
      const id = randomUUID();
      const model = await generateModelFiles(
        body.prompt,
        typeof body.seed === 'number' ? body.seed : 0,
        'draft',
      );
      const files = new Map<string, Uint8Array>();
      for (const generated of model.files)
        if (generated.name !== 'mesh.ply') files.set(generated.name.slice('mesh.'.length), generated.bytes);
      tasks.set(id, { polls: 0, files });
      return sendJson(response, 202, { result: id });
    }
    if (request.method === 'POST' && path.pathname === IMAGE_TASKS) {
      const body = request.body as
        { image_url?: unknown; texture_prompt?: unknown; should_texture?: unknown } | undefined;
      const dataUri = typeof body?.image_url === 'string' ? DATA_URI.exec(body.image_url) : null;
      if (!dataUri)
        return sendJson(response, 400, {
          message:
            'Invalid image_url: give a public URL or a base64 data URI of a .jpg, .jpeg or .png image.',
        });
      if (faults.refuseImages) return sendJson(response, 400, { message: faults.refuseImages });
      if (typeof body?.texture_prompt === 'string' && body.texture_prompt.length > 600)
        return sendJson(response, 400, { message: 'texture_prompt must be at most 600 characters.' });
      if (faults.noCredits) return sendJson(response, 402, { message: 'Insufficient credits.' });
      state.imageTasks.push(body as MeshyServer['imageTasks'][number]);
      const id = randomUUID();
      const image = Buffer.from(dataUri[2] as string, 'base64');
      const model = await generateModelFiles(
        `an image ${createHash('sha256').update(image).digest('hex').slice(0, 12)}`,
        0,
        'draft',
      );
      const files = new Map<string, Uint8Array>();
      for (const generated of model.files)
        if (generated.name !== 'mesh.ply') files.set(generated.name.slice('mesh.'.length), generated.bytes);
      tasks.set(id, { polls: 0, files });
      return sendJson(response, 202, { result: id });
    }
    const taskPath = new RegExp(`^(?:${TASKS}|${IMAGE_TASKS})/([^/]+)$`).exec(path.pathname);
    const task = taskPath ? tasks.get(taskPath[1] as string) : undefined;
    if (!taskPath || !task) return sendJson(response, 404, { message: 'Task not found.' });
    const id = taskPath[1] as string;
    if (request.method === 'DELETE') {
      state.deleted.add(id);
      tasks.delete(id);
      return sendJson(response, 200, {});
    }
    if (request.method !== 'GET') return sendJson(response, 405, { message: 'Method not allowed.' });
    if ((faults.failPolls ?? 0) > 0) {
      faults.failPolls = (faults.failPolls ?? 0) - 1;
      return sendJson(response, 500, { message: 'Internal server error.' });
    }
    if (faults.silentPolls) return;
    if (faults.garbagePolls) {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status": "SUCC');
      return;
    }
    const step = PROGRESSION[Math.min(task.polls, faults.neverFinish ? 1 : PROGRESSION.length)];
    task.polls += 1;
    const base = { id, mode: 'preview', created_at: Date.now(), thumbnail_url: null, task_error: null };
    if (step)
      return sendJson(response, 200, {
        ...base,
        status: step.status,
        progress: step.progress,
        model_urls: {},
      });
    if (faults.failTasks)
      return sendJson(response, 200, {
        ...base,
        status: 'FAILED',
        progress: 0,
        task_error: { message: 'The prompt could not be turned into a model.' },
        model_urls: {},
      });
    const model_urls = {
      glb: link(id, 'glb'),
      obj: link(id, 'obj'),
      mtl: link(id, 'mtl'),
      fbx: link(id, 'fbx'),
      usdz: link(id, 'usdz'),
    };
    return sendJson(response, 200, {
      ...base,
      status: 'SUCCEEDED',
      progress: 100,
      model_urls,
      thumbnail_url: link(id, 'png'),
    });
  });
  url = contract.url;
  return Object.assign(state, contract);
}
