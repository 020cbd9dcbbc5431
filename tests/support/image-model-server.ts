import { startReferenceModelServer } from '@gen3d/server';

import {
  forwardRequest,
  sendJson,
  sendUpstreamAnswer,
  startContractServer,
  type ContractServer,
} from './contracts/contract-server.js';

export interface ImageModelServer extends ContractServer {
  /** Added to every task creation (until jobs carry images themselves); none when undefined. */
  image: { data: string; mediaType: string } | undefined;
  /** Files of a finished task answered 404, by name (`mesh.obj`, `texture.png`...). */
  missing: string[];
  /** Served instead of the named files. */
  replaced: Map<string, Uint8Array>;
}

/**
 * The reference model server behind a proxy that adds an image to the tasks it is given, so a job made from
 * a prompt alone runs the image path of the real generator, and the server's handling of textured models
 * is exercised end to end. It can also hold back or replace files, as a faulty model server would.
 */
export async function startImageModelServer(): Promise<ImageModelServer> {
  const reference = await startReferenceModelServer({ host: '127.0.0.1', port: 0, durationMs: 0 });
  const state: Pick<ImageModelServer, 'image' | 'missing' | 'replaced'> = {
    image: undefined,
    missing: [],
    replaced: new Map(),
  };
  const proxy = await startContractServer(async (request, response) => {
    const { method, path } = request;
    const fileName = /^\/v1\/generations\/[^/]+\/files\/([^/]+)$/.exec(path)?.[1];
    if (fileName && state.missing.includes(fileName))
      return sendJson(response, 404, { error: 'no such file' });
    const replacement = fileName ? state.replaced.get(fileName) : undefined;
    if (replacement) {
      response.writeHead(200, { 'content-length': replacement.byteLength }).end(replacement);
      return;
    }
    const body =
      method === 'POST' && path === '/v1/generations' && state.image
        ? { ...(request.body as Record<string, unknown>), image: state.image }
        : request.body;
    sendUpstreamAnswer(response, await forwardRequest(reference.url, { ...request, body }));
  });
  return Object.assign(state, proxy, {
    close: async () => {
      await proxy.close();
      await reference.close();
    },
  });
}
