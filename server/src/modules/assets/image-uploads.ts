import { Types } from 'mongoose';

import type { TAsset, TUploadImageInput } from '@gen3d/shared';

import { checkInputImage, type ImageLimits } from '../../images/input-images.js';
import type { StoredObjectCaps } from '../quotas/stored-object-caps.js';
import type { AssetService } from './service.js';

export interface ImageUploadDeps {
  assets: AssetService;
  caps: StoredObjectCaps;
  limits: ImageLimits;
}

export interface ImageUploads {
  /** Checks and re-encodes an uploaded image, then stores it as the caller's input image (within their storage quota). */
  upload(ownerId: string, input: TUploadImageInput): Promise<TAsset>;
}

export function createImageUploads({ assets, caps, limits }: ImageUploadDeps): ImageUploads {
  return {
    async upload(ownerId, input) {
      const image = await checkInputImage(new Uint8Array(Buffer.from(input.data, 'base64')), limits);
      const record = await caps.withRoomForAssetBytes(ownerId, image.bytes.byteLength, () =>
        assets.storeImage({ ownerId: new Types.ObjectId(ownerId), jobId: null, chatId: null }, image),
      );
      return assets.view(record);
    },
  };
}
