import type { SystemService } from './modules/system/service.js';

/** Every service the routers call, built once per app in `buildApp`. */
export interface AppServices {
  system: SystemService;
}
