import type { TAssetFormat } from '@gen3d/shared';

/**
 * The names a model's files are stored and downloaded under. An OBJ names its MTL (`mtllib`) and the MTL its
 * texture (`map_Kd`) by these names, so the files saved side by side find each other.
 */
export function modelFileName(format: TAssetFormat): string {
  return format === 'png' ? 'texture.png' : `model.${format}`;
}
