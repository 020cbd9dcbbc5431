import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';

import { AssetFormats, ZAssetKind } from '@gen3d/shared';

const AssetSchema = new Schema(
  {
    ownerId: { type: Schema.Types.ObjectId, required: true },
    jobId: { type: Schema.Types.ObjectId, default: null },
    chatId: { type: Schema.Types.ObjectId, default: null },
    kind: { type: String, enum: ZAssetKind.options, required: true },
    format: { type: String, enum: AssetFormats, required: true },
    fileName: { type: String, required: true },
    contentType: { type: String, required: true },
    /** Where the storage keeps the bytes; never derived from a request. */
    storageKey: { type: String, required: true },
    bytes: { type: Number, required: true },
    sha256: { type: String, required: true },
    vertices: { type: Number, default: null },
    triangles: { type: Number, default: null },
    bbox: { type: { min: [Number], max: [Number] }, default: null, _id: false },
  },
  { timestamps: { createdAt: true, updatedAt: false }, strict: 'throw' },
);
AssetSchema.index({ ownerId: 1, createdAt: -1 });
AssetSchema.index({ jobId: 1 });
AssetSchema.index({ chatId: 1 });

export type AssetRecord = InferSchemaType<typeof AssetSchema> & { _id: Types.ObjectId };
export type AssetModel = Model<InferSchemaType<typeof AssetSchema>>;

export function assetModel(connection: Connection): AssetModel {
  return connection.model('Asset', AssetSchema);
}
