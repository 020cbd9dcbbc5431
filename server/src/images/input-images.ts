import { createHash } from 'node:crypto';

import type { Metadata, OutputInfo } from 'sharp';

import type { TImageFormat } from '@gen3d/shared';

import { DomainError } from '../domain-errors.js';
import { loadSharp } from '../infra/load-sharp.js';

export interface ImageLimits {
  /** Largest file accepted. */
  maxBytes: number;
  /** Largest width or height. */
  maxDimension: number;
  /** Most pixels (width × height). */
  maxPixels: number;
}

/** An input image as the server keeps it: decoded, checked, stripped of its metadata and re-encoded. */
export interface CheckedImage {
  format: TImageFormat;
  mediaType: `image/${TImageFormat}`;
  bytes: Uint8Array;
  sha256: string;
  width: number;
  height: number;
}

const ACCEPTED = 'send a PNG, JPEG or WebP file';

/** The most a decode and re-encode may take; an image within the pixel caps needs well under a second. */
const ENCODE_TIMEOUT_SECONDS = 20;

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  Buffer.from(bytes.subarray(start, start + length)).toString('latin1');

/** Image formats recognised by their first bytes but not taken, by the name users know them by. */
function unsupportedFormatOf(bytes: Uint8Array): string | undefined {
  const head = ascii(bytes, 0, 12);
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return 'GIF';
  if (head.startsWith('BM')) return 'BMP';
  if (head.startsWith('II*\0') || head.startsWith('MM\0*')) return 'TIFF';
  if (head.startsWith('8BPS')) return 'PSD';
  if (head.startsWith('\0\0\x01\0')) return 'ICO';
  if (head.startsWith('\xff\x0a') || head.startsWith('\0\0\0\x0cJXL ')) return 'JPEG XL';
  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (brand.startsWith('avi')) return 'AVIF';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'HEIF';
  }
  const text = ascii(bytes, 0, 1024)
    .replace(/^\ufeff|^\xef\xbb\xbf/, '')
    .trimStart();
  if (text.startsWith('<') && /<svg[\s>]/i.test(text)) return 'SVG';
  return undefined;
}

/** The format the bytes are, from their signature alone: a file's name or declared type is never trusted. */
export function sniffImageFormat(bytes: Uint8Array): TImageFormat | undefined {
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  return undefined;
}

const megabytes = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/**
 * Checks an uploaded image and re-encodes it. The format comes from the bytes; the dimensions from the
 * header, refused over the caps before anything is decoded (a small file can declare a huge image). The
 * decoded image is turned upright (EXIF orientation), converted to sRGB and written anew without any
 * metadata (EXIF, GPS, XMP, ICC, comments): in its own format, or as PNG when a WebP has transparency.
 */
export async function checkInputImage(bytes: Uint8Array, limits: ImageLimits): Promise<CheckedImage> {
  if (bytes.byteLength > limits.maxBytes)
    throw new DomainError(
      'IMAGE_TOO_LARGE',
      `The image is ${megabytes(bytes.byteLength)}; at most ${megabytes(limits.maxBytes)} is accepted`,
    );
  const format = sniffImageFormat(bytes);
  if (!format) {
    const other = unsupportedFormatOf(bytes);
    if (other)
      throw new DomainError('IMAGE_FORMAT_UNSUPPORTED', `${other} images are not supported; ${ACCEPTED}`);
    throw new DomainError('NOT_AN_IMAGE', `The file is not an image; ${ACCEPTED}`);
  }
  const sharp = await loadSharp();
  let header: Metadata;
  try {
    // The header only: the caps are checked below, in words, before any pixel is decoded.
    header = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new DomainError('IMAGE_CORRUPT', `The ${format.toUpperCase()} file is damaged and cannot be read`);
  }
  const { width, height } = header;
  if (header.format !== format || !width || !height)
    throw new DomainError('IMAGE_CORRUPT', `The ${format.toUpperCase()} file is damaged and cannot be read`);
  if (width > limits.maxDimension || height > limits.maxDimension || width * height > limits.maxPixels)
    throw new DomainError(
      'IMAGE_TOO_MANY_PIXELS',
      `The image is ${width}×${height} pixels; at most ${limits.maxDimension} pixels wide or tall and ${limits.maxPixels} pixels in all are accepted`,
    );
  const stored: TImageFormat = format === 'webp' && header.hasAlpha ? 'png' : format;
  // failOn 'error' also refuses a file cut short; limitInputPixels guards the decoder itself as well.
  // Decoding runs on libuv's thread pool, off the event loop, and is stopped past ENCODE_TIMEOUT_SECONDS.
  const decoded = sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels })
    .rotate()
    .timeout({ seconds: ENCODE_TIMEOUT_SECONDS });
  const encoder =
    stored === 'jpeg'
      ? decoded.jpeg({ quality: 90 })
      : stored === 'webp'
        ? decoded.webp({ quality: 90 })
        : decoded.png();
  let output: { data: Buffer; info: OutputInfo };
  try {
    output = await encoder.toBuffer({ resolveWithObject: true });
  } catch {
    throw new DomainError(
      'IMAGE_CORRUPT',
      `The ${format.toUpperCase()} file is damaged or cut short and cannot be read`,
    );
  }
  const reencoded = new Uint8Array(output.data.buffer, output.data.byteOffset, output.data.byteLength);
  return {
    format: stored,
    mediaType: `image/${stored}`,
    bytes: reencoded,
    sha256: createHash('sha256').update(reencoded).digest('hex'),
    width: output.info.width,
    height: output.info.height,
  };
}
