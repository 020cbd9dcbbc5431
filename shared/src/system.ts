import { z } from 'zod';

export const DatabaseKinds = ['embedded', 'external'] as const;
export const ZDatabaseKind = z.enum(DatabaseKinds);

/** What `system.info` (GET /api/system/info) reports about the running server. */
export const ZSystemInfo = z.object({
  name: z.literal('gen3d'),
  version: z.string().describe('Server version (semver)'),
  uptimeSeconds: z.number().nonnegative(),
  startedAt: z.string().describe('ISO 8601 start time of this instance'),
  database: z.object({
    kind: ZDatabaseKind.describe('embedded: the built-in MongoDB-compatible server; external: MONGODB_URI'),
    reachable: z.boolean(),
  }),
  modelServers: z.object({
    default: z.string().describe('The model server jobs use unless `params.modelServer` names another'),
    available: z.array(z.string()).describe('Names `params.modelServer` accepts'),
  }),
});
export type TSystemInfo = z.infer<typeof ZSystemInfo>;
export type TDatabaseKind = z.infer<typeof ZDatabaseKind>;
