import { z } from 'zod';

import { ZObjectId } from './auth.js';
import { queryInteger, ZPage } from './query-params.js';

export const AssetFormats = ['glb', 'obj', 'mtl', 'ply', 'png', 'jpeg', 'webp'] as const;
export const ZAssetFormat = z.enum(AssetFormats);
export type TAssetFormat = z.infer<typeof ZAssetFormat>;

/**
 * A model file is a mesh; an MTL file is the material library of an OBJ; a texture is the image a textured
 * model's material maps (embedded in its GLB, named by its MTL).
 */
export const ZAssetKind = z.enum(['model', 'material', 'texture']);
export type TAssetKind = z.infer<typeof ZAssetKind>;

export const ZBoundingBox = z.object({
  min: z.tuple([z.number(), z.number(), z.number()]),
  max: z.tuple([z.number(), z.number(), z.number()]),
});

export const ZAsset = z.object({
  _id: z.string(),
  id: z.string(),
  jobId: z.string().nullable(),
  chatId: z.string().nullable(),
  kind: ZAssetKind,
  format: ZAssetFormat,
  fileName: z.string(),
  contentType: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  vertices: z.number().int().nullable(),
  triangles: z.number().int().nullable(),
  bbox: ZBoundingBox.nullable(),
  /** Signed and expiring: usable without an Authorization header (e.g. in `<model-viewer src>`). */
  url: z.string(),
  urlExpiresAt: z.string(),
  createdAt: z.string(),
});
export type TAsset = z.infer<typeof ZAsset>;

export const ZListAssetsInput = z.strictObject({
  jobId: ZObjectId.optional(),
  page: ZPage,
  limit: queryInteger(1, 200).default(50),
});

/** An asset as a message attachment. */
export const ZAttachment = z.object({
  assetId: z.string(),
  kind: ZAssetKind,
  format: ZAssetFormat,
  url: z.string(),
});
export type TAttachment = z.infer<typeof ZAttachment>;

/** POST /assets (admins): register a file as an asset of a user; the file is checked like any model output. */
export const ZRegisterAssetInput = z
  .strictObject({
    format: ZAssetFormat,
    userId: ZObjectId.optional().describe('The owner; the caller by default'),
    jobId: ZObjectId.optional(),
    chatId: ZObjectId.optional(),
    data: z
      .base64()
      .max(16_000_000)
      .optional()
      .describe('The file, base64-encoded (within the request body limit)'),
    sourceUrl: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional()
      .describe(
        'Or an http(s) URL the server downloads the file from (public addresses only, unless the operator allows the host)',
      ),
  })
  .refine((input) => (input.data === undefined) !== (input.sourceUrl === undefined), {
    message: 'give either data or sourceUrl',
    path: ['data'],
  });
