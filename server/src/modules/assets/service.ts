import { Types, type QueryFilter } from 'mongoose';

import type { TAsset, TAssetFormat, TAttachment } from '@gen3d/shared';

import { onPage } from '../../db/paging.js';
import { NotFound } from '../../domain-errors.js';
import type { CheckedFile } from '../../meshes/mesh-checks.js';
import type { AssetStorage } from '../../storage/asset-storage.js';
import type { AssetUrlSigner } from '../../storage/signed-urls.js';
import type { AttachmentRecord } from './attachment-schema.js';
import { CONTENT_TYPES } from './content-types.js';
import type { AssetModel, AssetRecord } from './model.js';
import type { AssetUsage } from './usage.js';

export interface AssetOrigin {
  ownerId: Types.ObjectId;
  jobId: Types.ObjectId | null;
  chatId: Types.ObjectId | null;
}

export interface AssetService {
  /** Stores checked files and records them; on any failure nothing stays behind. */
  store(origin: AssetOrigin, files: CheckedFile[]): Promise<AssetRecord[]>;
  /** The caller's assets, newest first, optionally of one job. */
  list(
    ownerId: string,
    filter: { jobId?: string | undefined; page: number; limit: number },
  ): Promise<TAsset[]>;
  /** The records of these ids, all owned by `ownerId`; NOT_FOUND names the first that is not. */
  ownedBy(ownerId: string, ids: string[]): Promise<AssetRecord[]>;
  /** The asset with a fresh signed URL. */
  view(record: AssetRecord): TAsset;
  /** The record's attachment as stored in messages and jobs. */
  attachmentOf(record: AssetRecord): AttachmentRecord;
  /** A stored attachment as clients see it, with a fresh signed URL. */
  attachmentView(attachment: AttachmentRecord): TAttachment;
  /** Bytes of the files the account holds. */
  usedBytes(ownerId: string): Promise<number>;
  /** Deletes the files and the records matching the filter; answers how many went. */
  deleteWhere(filter: QueryFilter<AssetRecord>): Promise<number>;
  /** The record behind a download URL, when the id exists and the file name matches. */
  forDownload(assetId: string, fileName: string): Promise<AssetRecord | undefined>;
}

/** Told of every asset record added or removed (the analytics rollups count them). */
export interface AssetCountListener {
  assetsAdded(assets: Array<Pick<AssetRecord, 'ownerId' | 'createdAt' | 'bytes'>>): Promise<void>;
  assetsRemoved(assets: Array<Pick<AssetRecord, 'ownerId' | 'createdAt' | 'bytes'>>): Promise<void>;
}

function kindOf(format: TAssetFormat): 'model' | 'material' {
  return format === 'mtl' ? 'material' : 'model';
}

export function createAssetService(
  assets: AssetModel,
  storage: AssetStorage,
  signer: AssetUrlSigner,
  usage: AssetUsage,
  counts: AssetCountListener,
): AssetService {
  const attachmentView: AssetService['attachmentView'] = (attachment) => {
    const assetId = attachment.assetId.toHexString();
    return {
      assetId,
      kind: attachment.kind,
      format: attachment.format,
      url: signer.sign(assetId, attachment.fileName).url,
    };
  };

  const view = (record: AssetRecord): TAsset => {
    const id = record._id.toHexString();
    const signed = signer.sign(id, record.fileName);
    return {
      _id: id,
      id,
      jobId: record.jobId?.toHexString() ?? null,
      chatId: record.chatId?.toHexString() ?? null,
      kind: record.kind as 'model' | 'material',
      format: record.format as TAssetFormat,
      fileName: record.fileName,
      contentType: record.contentType,
      bytes: record.bytes,
      sha256: record.sha256,
      vertices: record.vertices ?? null,
      triangles: record.triangles ?? null,
      bbox: record.bbox
        ? {
            min: record.bbox.min as [number, number, number],
            max: record.bbox.max as [number, number, number],
          }
        : null,
      url: signed.url,
      urlExpiresAt: signed.expiresAt.toISOString(),
      createdAt: record.createdAt.toISOString(),
    };
  };

  return {
    async store(origin, files) {
      const stored: string[] = [];
      try {
        const records = files.map((file) => {
          const _id = new Types.ObjectId();
          const fileName = `model.${file.format}`;
          return {
            _id,
            ...origin,
            kind: kindOf(file.format),
            format: file.format,
            fileName,
            contentType: CONTENT_TYPES[file.format],
            storageKey: `${origin.ownerId.toHexString()}/${_id.toHexString()}/${fileName}`,
            bytes: file.bytes.byteLength,
            sha256: file.sha256,
            vertices: file.stats?.vertices ?? null,
            triangles: file.stats?.triangles ?? null,
            bbox: file.stats ? { min: file.stats.bbox.min, max: file.stats.bbox.max } : null,
          };
        });
        // Every write settles before a failure is reported, so the cleanup below sees all stored files.
        const writes = await Promise.allSettled(
          records.map(async (record, index) => {
            await storage.put(record.storageKey, (files[index] as CheckedFile).bytes);
            stored.push(record.storageKey);
          }),
        );
        const failed = writes.find((write) => write.status === 'rejected');
        if (failed) throw failed.reason;
        const inserted = (await assets.insertMany(records)).map(
          (document) => document.toObject() as AssetRecord,
        );
        await usage.add(
          origin.ownerId,
          records.reduce((sum, record) => sum + record.bytes, 0),
        );
        await counts.assetsAdded(inserted);
        return inserted;
      } catch (error) {
        await Promise.all(stored.map((key) => storage.delete(key).catch(() => undefined)));
        throw error;
      }
    },

    async list(ownerId, { jobId, page, limit }) {
      const filter: QueryFilter<AssetRecord> = {
        ownerId: new Types.ObjectId(ownerId),
        ...(jobId ? { jobId: new Types.ObjectId(jobId) } : {}),
      };
      const found = await onPage(assets.find(filter).sort({ createdAt: -1, _id: -1 }), { page, limit }).lean<
        AssetRecord[]
      >();
      return found.map(view);
    },

    async ownedBy(ownerId, ids) {
      const unique = [...new Set(ids)];
      const found = await assets
        .find({
          _id: { $in: unique.map((id) => new Types.ObjectId(id)) },
          ownerId: new Types.ObjectId(ownerId),
        })
        .lean<AssetRecord[]>();
      const missing = unique.find((id) => !found.some((record) => record._id.toHexString() === id));
      if (missing) throw new NotFound(`Asset ${missing} not found`);
      return unique.map((id) => found.find((record) => record._id.toHexString() === id) as AssetRecord);
    },

    view,
    attachmentView,
    attachmentOf: (record) => ({
      assetId: record._id,
      kind: kindOf(record.format as TAssetFormat),
      format: record.format as TAssetFormat,
      fileName: record.fileName,
    }),

    usedBytes: (ownerId) => usage.bytesOf(new Types.ObjectId(ownerId)),

    async deleteWhere(filter) {
      const doomed = await assets
        .find(filter, { storageKey: 1, ownerId: 1, bytes: 1, createdAt: 1 })
        .lean<Array<Pick<AssetRecord, '_id' | 'storageKey' | 'ownerId' | 'bytes' | 'createdAt'>>>();
      // Records first: a deletion cut short leaves at worst unused files, never a record whose file is gone.
      const { deletedCount } = await assets.deleteMany({ _id: { $in: doomed.map((record) => record._id) } });
      await counts.assetsRemoved(doomed);
      const freed = new Map<string, number>();
      for (const record of doomed)
        freed.set(
          record.ownerId.toHexString(),
          (freed.get(record.ownerId.toHexString()) ?? 0) + record.bytes,
        );
      for (const [ownerId, bytes] of freed) await usage.add(new Types.ObjectId(ownerId), -bytes);
      for (const record of doomed) await storage.delete(record.storageKey);
      return deletedCount;
    },

    async forDownload(assetId, fileName) {
      if (!Types.ObjectId.isValid(assetId)) return undefined;
      const record = await assets.findById(assetId).lean<AssetRecord>();
      return record && record.fileName === fileName ? record : undefined;
    },
  };
}
