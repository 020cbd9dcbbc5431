import { authRouter } from '../modules/auth/router.js';
import { systemRouter } from '../modules/system/router.js';
import { usersRouter } from '../modules/users/router.js';
import { type AppMeta, router } from './trpc.js';

export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

/** The meta a procedure declared (its OpenAPI projection and success status), found by its dotted path. */
export function procedureMeta(path: string): AppMeta | undefined {
  let node: unknown = appRouter._def.record;
  for (const part of path.split('.')) node = isRecord(node) ? node[part] : undefined;
  const definition = isRecord(node) ? node._def : undefined;
  return isRecord(definition) && isRecord(definition.meta) ? (definition.meta as AppMeta) : undefined;
}
