import sharp, { type Metadata, type Sharp } from 'sharp';

import {
  IMAGE_MEDIA_TYPES,
  MAX_IMAGE_BYTES,
  MAX_IMAGE_SIDE,
  TEXTURE_SIDE,
  type ImageMediaType,
} from './image-limits.js';

export type ImageRefusal = 'IMAGE_UNREADABLE' | 'IMAGE_TYPE_MISMATCH' | 'IMAGE_TOO_LARGE';

/** An image the server does not take, with the HTTP status and code its answer carries. */
export class ImageInputError extends Error {
  constructor(
    readonly code: ImageRefusal,
    readonly statusCode: 400 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'ImageInputError';
  }
}

const open = (bytes: Uint8Array): Sharp =>
  sharp(bytes, { limitInputPixels: MAX_IMAGE_SIDE ** 2, failOn: 'error' });

/**
 * Reads the image's header: it must be an image of the media type given, within MAX_IMAGE_SIDE on each
 * side. Cheap (no pixel is decoded), so a request is refused before it is accepted.
 */
export async function inspectImage(
  bytes: Uint8Array,
  mediaType: ImageMediaType,
): Promise<{ width: number; height: number }> {
  if (bytes.byteLength > MAX_IMAGE_BYTES)
    throw new ImageInputError(
      'IMAGE_TOO_LARGE',
      413,
      `image: ${bytes.byteLength} bytes, over the ${MAX_IMAGE_BYTES}-byte limit`,
    );
  let metadata: Metadata;
  try {
    metadata = await open(bytes).metadata();
  } catch {
    throw new ImageInputError('IMAGE_UNREADABLE', 400, 'image: not a PNG, JPEG or WebP image');
  }
  if (metadata.format !== IMAGE_MEDIA_TYPES[mediaType])
    throw new ImageInputError(
      'IMAGE_TYPE_MISMATCH',
      400,
      `image: the data is ${String(metadata.format).toUpperCase()}, not the ${mediaType} the request names`,
    );
  if (metadata.width > MAX_IMAGE_SIDE || metadata.height > MAX_IMAGE_SIDE)
    throw new ImageInputError(
      'IMAGE_TOO_LARGE',
      413,
      `image: ${metadata.width}x${metadata.height} px, over the ${MAX_IMAGE_SIDE} px a side may have`,
    );
  return { width: metadata.width, height: metadata.height };
}

/** An image decoded upright, at most TEXTURE_SIDE on its longest side: RGBA pixels, row by row from the top. */
export interface DecodedImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  /** Whether the image has an alpha channel (a silhouette may come from it). */
  hasAlpha: boolean;
  /** The same pixels as a PNG file (metadata dropped), RGB when the image has no alpha. */
  png: Uint8Array;
}

/** Decodes every pixel (a corrupt image fails here: IMAGE_UNREADABLE), turned upright by its EXIF orientation. */
export async function decodeImage(bytes: Uint8Array): Promise<DecodedImage> {
  try {
    const { hasAlpha } = await open(bytes).metadata();
    const { data, info } = await open(bytes)
      .rotate()
      .resize({ width: TEXTURE_SIDE, height: TEXTURE_SIDE, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: 4 as const } };
    const texture = sharp(data, raw);
    const png = await (hasAlpha ? texture : texture.removeAlpha())
      .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
      .toBuffer();
    return { pixels: data, width: info.width, height: info.height, hasAlpha, png };
  } catch {
    throw new ImageInputError('IMAGE_UNREADABLE', 400, 'image: its pixels cannot be decoded');
  }
}
