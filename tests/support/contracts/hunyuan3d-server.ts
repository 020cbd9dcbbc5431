import { createHash, randomUUID } from 'node:crypto';

import { generateModelFiles } from '@gen3d/server';

import { sendJson, startContractServer, type ContractServer } from './contract-server.js';
import { glbWithWrongBounds } from './glb-tamper.js';

export interface Hunyuan3dFaults {
  /** Answer this many `/send` calls with the server's error (404 {text, error_code}). */
  failSends?: number;
  /** Report every task as processing forever (the server never reports failure). */
  neverFinish?: boolean;
  /** Answer status requests with a 500. */
  failStatus?: boolean;
  /** Complete with a GLB that glTF loaders read but that breaks the glTF rules. */
  invalidGlb?: boolean;
  /** Complete with model_base64 that is not base64. */
  badBase64?: boolean;
  /** Complete with the first half of the GLB. */
  truncateGlb?: boolean;
  /** Answer status requests with malformed JSON. */
  garbageStatus?: boolean;
  /** Never answer status requests. */
  silentStatus?: boolean;
  /** Its worker cannot open any image (as PIL with an image it does not read): image tasks never complete. */
  unreadableImages?: boolean;
}

/** The signatures of the formats its PIL `Image.open` reads among those gen3d sends. */
function isReadableImage(bytes: Buffer): boolean {
  const png = bytes.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'));
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  const webp =
    bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP';
  return png || jpeg || webp;
}

export interface Hunyuan3dServer extends ContractServer {
  faults: Hunyuan3dFaults;
  /** Status polls a task spends processing (and texturing, when asked) before it completes. */
  pollsPerPhase: number;
  /** The decoded `image` of every `/send` that had one, in arrival order. */
  images: Buffer[];
}

interface Task {
  polls: number;
  /** Its worker thread raised (an image PIL cannot read): the GLB never appears, the status stays processing. */
  crashed: boolean;
  texture: boolean;
  glb: Uint8Array;
}

const SERVER_ERROR_TEXT = '**NETWORK ERROR DUE TO HIGH TRAFFIC. PLEASE REGENERATE OR REFRESH THIS PAGE.**';

/**
 * Tencent Hunyuan3D-2's `api_server.py` as it behaves: `POST /send` starts a task (from `image`, plain
 * base64, when given; from `text` otherwise) and answers `{uid}`; an image its worker cannot open makes the
 * worker thread raise, so that task's GLB never appears;
 * `GET /status/{uid}` answers `{status: "processing"}` until the GLB exists (an unknown uid too), then
 * `{status: "completed", model_base64}`; errors are HTTP 404 `{text, error_code}`. There is no cancel.
 */
export async function startHunyuan3dServer(): Promise<Hunyuan3dServer> {
  const tasks = new Map<string, Task>();
  const state = { faults: {} as Hunyuan3dFaults, pollsPerPhase: 2, images: [] as Buffer[] };
  const contract = await startContractServer(async (request, response) => {
    const { faults } = state;
    if (request.method === 'POST' && request.path === '/send') {
      const params = request.body as
        { text?: unknown; image?: unknown; seed?: unknown; texture?: unknown } | undefined;
      if (
        (faults.failSends ?? 0) > 0 ||
        (typeof params?.text !== 'string' && typeof params?.image !== 'string')
      ) {
        faults.failSends = Math.max(0, (faults.failSends ?? 0) - 1);
        return sendJson(response, 404, { text: SERVER_ERROR_TEXT, error_code: 1 });
      }
      const uid = randomUUID();
      // Its worker takes `image` when there is one (text is then ignored), and turns text into an image
      // otherwise; the model here is made from a name of the input, so the same input gives the same model.
      const image = typeof params.image === 'string' ? Buffer.from(params.image, 'base64') : undefined;
      if (image) state.images.push(image);
      const source = image
        ? `an image ${createHash('sha256').update(image).digest('hex').slice(0, 12)}`
        : String(params.text);
      const model = await generateModelFiles(
        source,
        typeof params.seed === 'number' ? params.seed : 1234,
        'draft',
      );
      const glb = model.files.find((file) => file.name === 'mesh.glb')?.bytes as Uint8Array;
      tasks.set(uid, {
        polls: 0,
        crashed: image !== undefined && (faults.unreadableImages === true || !isReadableImage(image)),
        texture: params.texture === true,
        glb,
      });
      return sendJson(response, 200, { uid });
    }
    const status = /^\/status\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && status) {
      if (faults.failStatus) return sendJson(response, 500, { detail: 'Internal Server Error' });
      if (faults.silentStatus) return;
      if (faults.garbageStatus) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status": "compl');
        return;
      }
      const task = tasks.get(status[1] as string);
      if (!task || task.crashed || faults.neverFinish)
        return sendJson(response, 200, { status: 'processing' });
      task.polls += 1;
      if (task.polls <= state.pollsPerPhase) return sendJson(response, 200, { status: 'processing' });
      if (task.texture && task.polls <= 2 * state.pollsPerPhase)
        return sendJson(response, 200, { status: 'texturing' });
      if (faults.badBase64)
        return sendJson(response, 200, { status: 'completed', model_base64: '%%% not base64 %%%' });
      let glb = faults.invalidGlb ? glbWithWrongBounds(task.glb) : task.glb;
      if (faults.truncateGlb) glb = glb.subarray(0, Math.floor(glb.byteLength / 2));
      return sendJson(response, 200, {
        status: 'completed',
        model_base64: Buffer.from(glb).toString('base64'),
      });
    }
    return sendJson(response, 404, { detail: 'Not Found' });
  });
  return Object.assign(state, contract);
}
