import { z } from 'zod';

import { ZObjectId } from './auth.js';
import { queryInteger, ZPage } from './query-params.js';

export const AssetFormats = ['glb', 'obj', 'mtl', 'ply', 'png', 'jpeg', 'webp'] as const;
export const ZAssetFormat = z.enum(AssetFormats);
export type TAssetFormat = z.infer<typeof ZAssetFormat>;

/** The formats of mesh files (model outputs and registered files). */
export const MeshFormats = ['glb', 'obj', 'mtl', 'ply'] as const;
export const ZMeshFormat = z.enum(MeshFormats);
export type TMeshFormat = z.infer<typeof ZMeshFormat>;

/** The formats of input images, as stored (re-encoded by the server). */
export const ImageFormats = ['png', 'jpeg', 'webp'] as const;
export type TImageFormat = (typeof ImageFormats)[number];

/**
 * A model file is a mesh; an MTL file is the material library of an OBJ; a texture is an image a textured
 * model uses; an image is an input image a user uploaded (jobs take it with `imageAssetId`).
 */
export const AssetKinds = ['model', 'material', 'texture', 'image'] as const;
export const ZAssetKind = z.enum(AssetKinds);
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
  /** Pixel dimensions of an image; null for other files. */
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  sourceAssetId: z.string().nullable().describe('The asset this one was made from (post-processing)'),
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
    format: ZMeshFormat,
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

/**
 * POST /assets/images: upload an input image (PNG, JPEG or WebP). The server reads its real format from its
 * bytes, checks its size and dimensions, strips its metadata and re-encodes it; jobs take it by id.
 */
export const ZUploadImageInput = z.strictObject({
  data: z
    .base64()
    .min(1, 'must not be empty')
    .max(64_000_000)
    .describe('The image file, base64-encoded (within the request body limit and IMAGE_MAX_BYTES)'),
});
export type TUploadImageInput = z.infer<typeof ZUploadImageInput>;
