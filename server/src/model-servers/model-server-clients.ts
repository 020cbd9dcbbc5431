import type { Config } from '../config.js';
import { publicAddressPolicy } from '../infra/public-addresses.js';
import { configuredModelServers } from './configured-model-servers.js';
import { createModelHttpClient } from './http-client.js';
import type { ModelServer } from './model-server.js';

export interface ModelServerClients {
  /** Every configured model server, by the name jobs select it with. */
  modelServers: Map<string, ModelServer>;
  /** Fetches a file from a public address (or an allowed host), as registered asset URLs are. */
  download(url: string, signal: AbortSignal): Promise<Uint8Array>;
  /** Closes the HTTP connections. */
  close(): Promise<void>;
}

/** The model servers the configuration names and the HTTP clients they call through. */
export function createModelServerClients(
  config: Pick<Config, 'modelServers' | 'assets'>,
  referenceUrl: string,
): ModelServerClients {
  const httpOptions = {
    connectTimeoutMs: config.modelServers.calls.connectTimeoutMs,
    responseTimeoutMs: config.modelServers.calls.responseTimeoutMs,
    maxBytes: config.assets.maxFileBytes,
  };
  const http = createModelHttpClient(httpOptions);
  // Files registered from a URL (an admin's word) and links in a third party's answers are fetched from
  // the public internet only, unless allowed.
  const publicHttp = createModelHttpClient({
    ...httpOptions,
    addressPolicy: publicAddressPolicy(config.assets.sourceAllowedHosts),
  });
  return {
    modelServers: configuredModelServers(config.modelServers, referenceUrl, http, publicHttp),
    download: (url, signal) => publicHttp.download(url, signal),
    close: async () => {
      await Promise.all([http.close(), publicHttp.close()]);
    },
  };
}
