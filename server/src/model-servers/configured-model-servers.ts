import type { Config } from '../config.js';
import type { ModelHttpClient } from './http-client.js';
import { createHunyuan3dModelServer } from './hunyuan3d-adapter.js';
import { createMeshyModelServer } from './meshy-adapter.js';
import type { ModelServer } from './model-server.js';
import { createReferenceModelServer } from './reference-adapter.js';
import { createShapEModelServer } from './shap-e-adapter.js';

/**
 * Every model server the configuration names, by the name jobs select it with. `publicHttp` reaches public
 * addresses only: it fetches URLs a third party's answer names.
 */
export function configuredModelServers(
  settings: Config['modelServers'],
  referenceUrl: string,
  http: ModelHttpClient,
  publicHttp: ModelHttpClient,
): Map<string, ModelServer> {
  const servers: ModelServer[] = [createReferenceModelServer('reference', referenceUrl, http)];
  if (settings.shapE)
    servers.push(
      createShapEModelServer(
        'shap-e',
        { baseUrl: settings.shapE.url, generateTimeoutMs: settings.shapE.generateTimeoutMs },
        http,
      ),
    );
  if (settings.hunyuan3d)
    servers.push(
      createHunyuan3dModelServer(
        'hunyuan3d',
        { baseUrl: settings.hunyuan3d.url, deadlineMs: settings.hunyuan3d.deadlineMs },
        http,
      ),
    );
  if (settings.meshy)
    servers.push(
      createMeshyModelServer(
        'meshy',
        { baseUrl: settings.meshy.url, apiKey: settings.meshy.apiKey },
        http,
        publicHttp,
      ),
    );
  return new Map(servers.map((server) => [server.name, server]));
}
