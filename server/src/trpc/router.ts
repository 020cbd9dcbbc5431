import { authRouter } from '../modules/auth/router.js';
import { systemRouter } from '../modules/system/router.js';
import { usersRouter } from '../modules/users/router.js';
import { router } from './trpc.js';

export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  users: usersRouter,
});

export type AppRouter = typeof appRouter;
