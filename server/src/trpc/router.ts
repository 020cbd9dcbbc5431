import { adminRouter } from '../modules/admin/router.js';
import { analyticsRouter } from '../modules/analytics/router.js';
import { apiKeysRouter } from '../modules/api-keys/router.js';
import { assetsRouter } from '../modules/assets/router.js';
import { authRouter } from '../modules/auth/router.js';
import { chatsRouter } from '../modules/chats/router.js';
import { generationRouter, jobsRouter } from '../modules/generation/router.js';
import { messagesRouter } from '../modules/messages/router.js';
import { postprocessingRouter } from '../modules/postprocessing/router.js';
import { systemRouter } from '../modules/system/router.js';
import { usersRouter } from '../modules/users/router.js';
import { webhooksRouter } from '../modules/webhooks/router.js';
import { router } from './trpc.js';

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
  postprocessing: postprocessingRouter,
  webhooks: webhooksRouter,
  apiKeys: apiKeysRouter,
});

export type AppRouter = typeof appRouter;

/** Names a built router has besides its procedures; tRPC refuses them as procedure or router names. */
const ROUTER_MEMBERS = new Set(['_def', 'createCaller']);

/**
 * Every procedure's dotted path (`generation.create`). A built router carries its procedures as typed
 * members (`appRouter.generation.create`): procedures are functions, nested routers plain records.
 */
export function allProcedurePaths(): string[] {
  const paths: string[] = [];
  const visit = (record: object, prefix: string): void => {
    for (const [key, member] of Object.entries(record)) {
      if (ROUTER_MEMBERS.has(key)) continue;
      if (typeof member === 'function') paths.push(`${prefix}${key}`);
      else if (member !== null && typeof member === 'object') visit(member, `${prefix}${key}.`);
    }
  };
  visit(appRouter, '');
  return paths;
}
