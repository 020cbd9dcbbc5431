import { Schema, type Connection, type Types } from 'mongoose';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import type { AssetModel } from './model.js';

/** Bytes of files one account holds, kept up to date as assets are stored and deleted. */
const AssetUsageSchema = new Schema(
  { _id: { type: Schema.Types.ObjectId, required: true }, bytes: { type: Number, required: true } },
  { strict: 'throw', versionKey: false },
);

/**
 * Each account's total of stored file bytes, read in one lookup (the per-account cap reads it at every
 * registration and job). An account without a total yet (files from before it existed) gets one summed from
 * its assets on first read. Changes made while that sum is taken can be missed: the total is for a soft cap.
 */
export interface AssetUsage {
  bytesOf(ownerId: Types.ObjectId): Promise<number>;
  add(ownerId: Types.ObjectId, bytes: number): Promise<void>;
}

export function createAssetUsage(connection: Connection, assets: AssetModel): AssetUsage {
  const usage = connection.model('AssetUsage', AssetUsageSchema, 'asset_usage');
  return {
    async bytesOf(ownerId) {
      const known = await usage.findById(ownerId).lean();
      if (known) return known.bytes;
      const [summed] = await assets.aggregate<{ bytes: number }>([
        { $match: { ownerId } },
        { $group: { _id: null, bytes: { $sum: '$bytes' } } },
      ]);
      const bytes = summed?.bytes ?? 0;
      try {
        await usage.create({ _id: ownerId, bytes });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        return (await usage.findById(ownerId).lean())?.bytes ?? bytes;
      }
      return bytes;
    },

    async add(ownerId, bytes) {
      // Only an existing total changes; a missing one is summed from the assets when first read.
      await usage.updateOne({ _id: ownerId }, { $inc: { bytes } });
    },
  };
}
