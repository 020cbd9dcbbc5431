import { adminRouter } from '../modules/admin/router.js';
import { analyticsRouter } from '../modules/analytics/router.js';
import { assetsRouter } from '../modules/assets/router.js';
import { authRouter } from '../modules/auth/router.js';
import { chatsRouter } from '../modules/chats/router.js';
import { generationRouter, jobsRouter } from '../modules/generation/router.js';
import { messagesRouter } from '../modules/messages/router.js';
import { systemRouter } from '../modules/system/router.js';
import { usersRouter } from '../modules/users/router.js';
import { router, type AppMeta } from './trpc.js';

export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  users: usersRouter,
  admin: adminRouter,
  analytics: analyticsRouter,
  chats: chatsRouter,
  messages: messagesRouter,
  generation: generationRouter,
  jobs: jobsRouter,
  assets: assetsRouter,
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

/** Every procedure's meta, for documents built from the router. */
export function allProcedureMetas(): AppMeta[] {
  const found: AppMeta[] = [];
  const visit = (node: unknown): void => {
    if (!isRecord(node)) return;
    const definition = node._def;
    if (isRecord(definition) && definition.procedure === true) {
      if (isRecord(definition.meta)) found.push(definition.meta as AppMeta);
      return;
    }
    for (const child of Object.values(node)) visit(child);
  };
  visit(appRouter._def.record);
  return found;
}

/** Every procedure's dotted path (`generation.create`). */
export function allProcedurePaths(): string[] {
  return Object.keys(appRouter._def.procedures);
}
