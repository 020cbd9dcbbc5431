import { crc32, deflateSync } from 'node:zlib';

import sharp from 'sharp';

import type { TAsset } from '@gen3d/client';

import type { SignedIn } from './accounts.js';
import { callRest } from './rest.js';
import type { TestServer } from './server.js';

/** A photo-like JPEG with EXIF: a camera, GPS coordinates, and an orientation that turns it a quarter. */
export function jpegWithGps(width = 64, height = 32): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: 'GenCam', Model: 'Spy 1', ImageDescription: 'secret garden' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 24/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 3/1',
      },
    })
    .toBuffer();
}

/** A PNG carrying an ICC profile and, when asked, transparency. */
export function pngWithProfile(width = 48, height = 40, alpha = false): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: alpha ? 4 : 3, background: { r: 20, g: 120, b: 220, alpha: 0.5 } },
  })
    .withIccProfile('p3')
    .png()
    .toBuffer();
}

export function webpImage(width = 40, height = 30, alpha = false): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: alpha ? 4 : 3, background: { r: 90, g: 200, b: 90, alpha: 0.25 } },
  })
    .webp()
    .toBuffer();
}

export function gifImage(): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } })
    .gif()
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.byteLength);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * An image bomb: a PNG of a few dozen bytes whose header declares `width`×`height` pixels, with one
 * compressed row of data. Decoding it would allocate the whole declared image (and then find it cut short).
 */
export function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1 + Math.min(width, 1024) * 3))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Uploads an image over REST (`POST /api/assets/images`); the raw answer. */
export function postImage(
  server: TestServer,
  account: SignedIn,
  bytes: Uint8Array,
): ReturnType<typeof callRest> {
  return callRest(
    server.url,
    'POST',
    '/assets/images',
    { data: Buffer.from(bytes).toString('base64') },
    account.token,
  );
}

/** Uploads an image that must be taken; its asset. */
export async function uploadImage(server: TestServer, account: SignedIn, bytes: Uint8Array): Promise<TAsset> {
  const answer = await postImage(server, account, bytes);
  if (answer.status !== 201) throw new Error(`the upload was refused: ${JSON.stringify(answer.body)}`);
  return answer.body as unknown as TAsset;
}
