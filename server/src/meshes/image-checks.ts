import type { Metadata } from 'sharp';

import { loadSharp } from '../infra/load-sharp.js';
import { InvalidMeshError } from './mesh-stats.js';

/** The longest side of a texture accepted from a model server (4096 px: 64 MiB decoded as RGBA). */
export const MAX_TEXTURE_SIDE = 4096;

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/**
 * Checks that the bytes are a whole image of the format named, within MAX_TEXTURE_SIDE on each side: the
 * header is read first (dimensions are refused before any pixel is decoded), then every pixel is decoded.
 */
export async function checkImageFile(format: ImageFormat, bytes: Uint8Array): Promise<void> {
  const label = format.toUpperCase();
  const sharp = await loadSharp();
  const image = sharp(bytes, { limitInputPixels: MAX_TEXTURE_SIDE ** 2, failOn: 'error' });
  let metadata: Metadata;
  try {
    metadata = await image.metadata();
  } catch {
    throw new InvalidMeshError(label, 'it is not an image the server can read');
  }
  if (metadata.format !== format)
    throw new InvalidMeshError(label, `it holds ${metadata.format.toUpperCase()} data`);
  if (metadata.width > MAX_TEXTURE_SIDE || metadata.height > MAX_TEXTURE_SIDE)
    throw new InvalidMeshError(
      label,
      `it is ${metadata.width}x${metadata.height} px, over the ${MAX_TEXTURE_SIDE} px a side may have`,
    );
  try {
    await image.stats();
  } catch {
    throw new InvalidMeshError(label, 'its pixels cannot be decoded (truncated or corrupt)');
  }
}
