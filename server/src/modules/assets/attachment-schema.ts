import { Schema, type Types } from 'mongoose';

import { AssetFormats, ZAssetKind, type TAssetFormat, type TAssetKind } from '@gen3d/shared';

/** An asset as messages and jobs refer to it: enough to sign its URL without another read. */
export const AttachmentSchema = new Schema(
  {
    assetId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, enum: ZAssetKind.options, required: true },
    format: { type: String, enum: AssetFormats, required: true },
    fileName: { type: String, required: true },
  },
  { _id: false },
);

export interface AttachmentRecord {
  assetId: Types.ObjectId;
  kind: TAssetKind;
  format: TAssetFormat;
  fileName: string;
}
