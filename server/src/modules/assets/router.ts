import { z } from 'zod';

import { ZAsset, ZListAssetsInput, ZRegisterAssetInput, ZUploadImageInput } from '@gen3d/shared';

import { authedProcedure, router, withRole } from '../../trpc/trpc.js';

export const assetsRouter = router({
  list: authedProcedure
    .meta({
      apiKeyScope: 'assets:read',
      openapi: {
        method: 'GET',
        path: '/assets',
        tags: ['assets'],
        summary: 'Your assets, newest first, with signed download URLs',
        protect: true,
      },
    })
    .input(ZListAssetsInput)
    .output(z.array(ZAsset))
    .query(({ ctx, input }) => ctx.services.assets.list(ctx.user.id, input)),

  uploadImage: authedProcedure
    .meta({
      apiKeyScope: 'assets:write',
      openapi: {
        method: 'POST',
        path: '/assets/images',
        tags: ['assets'],
        summary:
          'Upload an input image (PNG, JPEG or WebP, base64): checked, stripped of metadata and re-encoded; jobs take it as imageAssetId',
        protect: true,
      },
      successStatus: 201,
      errorCodes: [
        'NOT_AN_IMAGE',
        'IMAGE_FORMAT_UNSUPPORTED',
        'IMAGE_TOO_LARGE',
        'IMAGE_TOO_MANY_PIXELS',
        'IMAGE_CORRUPT',
        'QUOTA_EXCEEDED',
      ],
    })
    .input(ZUploadImageInput)
    .output(ZAsset)
    .mutation(({ ctx, input }) => ctx.services.imageUploads.upload(ctx.user.id, input)),

  register: withRole('admin')
    .meta({
      openapi: {
        method: 'POST',
        path: '/assets',
        tags: ['assets'],
        summary: 'Register a file as an asset of a user (admins); it is checked like any model output',
        protect: true,
      },
      successStatus: 201,
    })
    .input(ZRegisterAssetInput)
    .output(ZAsset)
    .mutation(({ ctx, input }) => ctx.services.assetRegistration.register(ctx.actor, input)),
});
