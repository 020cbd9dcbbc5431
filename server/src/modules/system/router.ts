import { z } from 'zod';

import { ZSystemInfo } from '@gen3d/shared';

import { publicProcedure, router } from '../../trpc/trpc.js';

export const systemRouter = router({
  info: publicProcedure
    .meta({
      apiKeyScope: 'any-key',
      openapi: {
        method: 'GET',
        path: '/system/info',
        tags: ['system'],
        summary: 'Server version, uptime and database status',
        protect: false,
      },
    })
    .input(z.void())
    .output(ZSystemInfo)
    .query(({ ctx }) => ctx.services.system.info()),
});
