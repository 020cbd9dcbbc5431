import { ZAsset, ZListAssetsInput } from '@gen3d/shared';
import { z } from 'zod';
import { authedProcedure, router } from '../../trpc/trpc.js';

export const assetsRouter = router({
  list: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/assets', tags: ['assets'], summary: 'Your assets, newest first, with signed download URLs', protect: true } })
    .input(ZListAssetsInput)
    .output(z.array(ZAsset))
    .query(({ ctx, input }) => ctx.services.assets.list(ctx.user.id, input)),
});
