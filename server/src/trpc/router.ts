import { authRouter } from '../modules/auth/router.js';
import { systemRouter } from '../modules/system/router.js';
import { router } from './trpc.js';

export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
});

export type AppRouter = typeof appRouter;
