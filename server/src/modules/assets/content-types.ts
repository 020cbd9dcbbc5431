import type { TAssetFormat } from '@gen3d/shared';

export const CONTENT_TYPES: Record<TAssetFormat, string> = {
  glb: 'model/gltf-binary',
  obj: 'model/obj',
  mtl: 'model/mtl',
  ply: 'application/ply',
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};
