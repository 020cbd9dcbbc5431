import { buffer } from 'node:stream/consumers';

import { Types, type QueryFilter } from 'mongoose';

import type { TAsset, TAssetFormat, TAssetKind, TAttachment } from '@gen3d/shared';

import { onPage } from '../../db/paging.js';
import { DomainError, NotFound } from '../../domain-errors.js';
import type { CheckedImage } from '../../images/input-images.js';
import type { CheckedFile } from '../../meshes/mesh-checks.js';
import { modelFileName } from '../../meshes/model-file-names.js';
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
  /** The asset the files were made from (post-processing). */
  sourceAssetId?: Types.ObjectId | null;
}

export interface AssetService {
  /** Stores checked files and records them; on any failure nothing stays behind. */
  store(origin: AssetOrigin, files: CheckedFile[]): Promise<AssetRecord[]>;
  /** Stores a checked input image as an asset of kind `image`. */
  storeImage(origin: AssetOrigin, image: CheckedImage): Promise<AssetRecord>;
  /** The owner's input image of this id: NOT_FOUND when it is not theirs, NOT_AN_IMAGE_ASSET when it is no image. */
  ownedImage(ownerId: string, assetId: string): Promise<AssetRecord>;
  /** The record of this id, whoever owns it (for the workers). */
  byId(assetId: Types.ObjectId): Promise<AssetRecord | undefined>;
  /** The stored bytes of an asset. */
  bytesOf(record: AssetRecord): Promise<Uint8Array>;
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
  /** The stored file's bytes. */
  read(record: AssetRecord): Promise<Uint8Array>;
  /** The asset of the same owner and job in the other format (an OBJ's MTL), if there is one. */
  companion(record: AssetRecord, format: TAssetFormat): Promise<AssetRecord | undefined>;
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

/** The kind of a model server's file: images among them are the textures of a textured model. */
function kindOf(format: TAssetFormat): TAssetKind {
  if (format === 'mtl') return 'material';
  if (format === 'png' || format === 'jpeg' || format === 'webp') return 'texture';
  return 'model';
}

/** A record about to be stored, with the bytes it describes. */
interface NewAsset {
  record: Omit<AssetRecord, 'createdAt'>;
  bytes: Uint8Array;
}

function newRecord(
  origin: AssetOrigin,
  file: { kind: TAssetKind; format: TAssetFormat; bytes: Uint8Array; sha256: string },
): Omit<AssetRecord, 'createdAt'> {
  const _id = new Types.ObjectId();
  const fileName = file.kind === 'image' ? `image.${file.format}` : modelFileName(file.format);
  return {
    _id,
    ...origin,
    sourceAssetId: origin.sourceAssetId ?? null,
    kind: file.kind,
    format: file.format,
    fileName,
    contentType: CONTENT_TYPES[file.format],
    storageKey: `${origin.ownerId.toHexString()}/${_id.toHexString()}/${fileName}`,
    bytes: file.bytes.byteLength,
    sha256: file.sha256,
    vertices: null,
    triangles: null,
    bbox: null,
    width: null,
    height: null,
  };
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
      kind: record.kind as TAssetKind,
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
      width: record.width ?? null,
      height: record.height ?? null,
      sourceAssetId: record.sourceAssetId?.toHexString() ?? null,
      url: signed.url,
      urlExpiresAt: signed.expiresAt.toISOString(),
      createdAt: record.createdAt.toISOString(),
    };
  };

  const ownedBy: AssetService['ownedBy'] = async (ownerId, ids) => {
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
  };

  /** Writes the files, then the records; on any failure nothing stays behind. */
  async function persist(origin: AssetOrigin, added: NewAsset[]): Promise<AssetRecord[]> {
    const stored: string[] = [];
    try {
      // Every write settles before a failure is reported, so the cleanup below sees all stored files.
      const writes = await Promise.allSettled(
        added.map(async ({ record, bytes }) => {
          await storage.put(record.storageKey, bytes);
          stored.push(record.storageKey);
        }),
      );
      const failed = writes.find((write) => write.status === 'rejected');
      if (failed) throw failed.reason;
      const records = added.map(({ record }) => record);
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
  }

  return {
    async store(origin, files) {
      return persist(
        origin,
        files.map((file) => ({
          record: {
            ...newRecord(origin, { ...file, kind: kindOf(file.format) }),
            vertices: file.stats?.vertices ?? null,
            triangles: file.stats?.triangles ?? null,
            bbox: file.stats ? { min: file.stats.bbox.min, max: file.stats.bbox.max } : null,
          },
          bytes: file.bytes,
        })),
      );
    },

    async storeImage(origin, image) {
      const [stored] = await persist(origin, [
        {
          record: {
            ...newRecord(origin, { ...image, kind: 'image' }),
            width: image.width,
            height: image.height,
          },
          bytes: image.bytes,
        },
      ]);
      return stored as AssetRecord;
    },

    async ownedImage(ownerId, assetId) {
      const [record] = await ownedBy(ownerId, [assetId]);
      if (record?.kind !== 'image')
        throw new DomainError(
          'NOT_AN_IMAGE_ASSET',
          `Asset ${assetId} is a ${record?.format ?? ''} ${record?.kind ?? ''} file, not an input image; upload the image with POST /api/assets/images`,
        );
      return record;
    },

    async byId(assetId) {
      return (await assets.findById(assetId).lean<AssetRecord>()) ?? undefined;
    },

    async bytesOf(record) {
      const chunks: Buffer[] = [];
      for await (const chunk of await storage.read(record.storageKey)) chunks.push(chunk as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
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

    ownedBy,
    view,
    attachmentView,
    attachmentOf: (record) => ({
      assetId: record._id,
      kind: record.kind as TAssetKind,
      format: record.format as TAssetFormat,
      fileName: record.fileName,
    }),

    read: async (record) => new Uint8Array(await buffer(await storage.read(record.storageKey))),

    async companion(record, format) {
      if (!record.jobId) return undefined;
      const found = await assets
        .findOne({ ownerId: record.ownerId, jobId: record.jobId, format })
        .sort({ createdAt: -1, _id: -1 })
        .lean<AssetRecord>();
      return found ?? undefined;
    },

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
