// Apart from image-input.ts, so reading the limits (http-server.ts does) loads no image library.

/** The image formats the reference server takes, by media type. */
export const IMAGE_MEDIA_TYPES = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
} as const;
export type ImageMediaType = keyof typeof IMAGE_MEDIA_TYPES;

/** Largest image file taken (decoded from base64). */
export const MAX_IMAGE_BYTES = 8 * 2 ** 20;
/** Largest image taken, in pixels on each side. */
export const MAX_IMAGE_SIDE = 4096;
/** The texture's longest side: larger images are scaled down to it. */
export const TEXTURE_SIDE = 1024;
