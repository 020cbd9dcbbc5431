import type { TDatabaseKind, TSystemInfo } from '@gen3d/shared';

export interface SystemServiceDeps {
  version: string;
  startedAt: Date;
  databaseKind: TDatabaseKind;
  /** Resolves true when the database answers a ping in time. */
  isDatabaseReachable: () => Promise<boolean>;
  modelServers: TSystemInfo['modelServers'];
}

export interface SystemService {
  /** Version, uptime and database status of this instance; never fails, reports an unreachable database instead. */
  info(): Promise<TSystemInfo>;
}

export function createSystemService(deps: SystemServiceDeps): SystemService {
  return {
    async info() {
      return {
        name: 'gen3d',
        version: deps.version,
        uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
        startedAt: deps.startedAt.toISOString(),
        database: { kind: deps.databaseKind, reachable: await deps.isDatabaseReachable() },
        modelServers: deps.modelServers,
      };
    },
  };
}
