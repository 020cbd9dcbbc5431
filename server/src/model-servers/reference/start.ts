import { buildReferenceModelServer } from './http-server.js';

export interface RunningReferenceServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the reference model server on its own port (0: any free one). */
export async function startReferenceModelServer(options: {
  host: string;
  port: number;
  durationMs: number;
}): Promise<RunningReferenceServer> {
  const app = buildReferenceModelServer({ durationMs: options.durationMs });
  const url = await app.listen({ host: options.host, port: options.port });
  return { url, close: () => app.close() };
}
