import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The app's own registry, with Node's process and event-loop metrics on it. Each app has its own, so
 * several apps in one process (tests) never register the same metric twice.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
