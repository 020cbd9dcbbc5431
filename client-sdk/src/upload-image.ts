import type { TRPCClient } from '@trpc/client';

import type { AppRouter } from '@gen3d/server';
import type { TAsset } from '@gen3d/shared';

import { toGen3dError } from './errors.js';

/** Base64 of the bytes, in browsers (btoa) and in Node alike; in slices, so large files do not overflow the call stack. */
function base64Of(bytes: Uint8Array): string {
  let binary = '';
  for (let start = 0; start < bytes.byteLength; start += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  return btoa(binary);
}

/** Uploads an input image (PNG, JPEG or WebP: a File or Blob in browsers, bytes anywhere) and answers its asset. */
export async function uploadImageWith(
  client: TRPCClient<AppRouter>,
  image: Blob | Uint8Array | ArrayBuffer,
): Promise<TAsset> {
  const bytes =
    image instanceof Uint8Array
      ? image
      : new Uint8Array(image instanceof ArrayBuffer ? image : await image.arrayBuffer());
  try {
    return await client.assets.uploadImage.mutate({ data: base64Of(bytes) });
  } catch (error) {
    throw toGen3dError(error);
  }
}
