import type { Readable } from 'node:stream';

import { GridFSBucket, type Db } from 'mongodb';

import type { AssetStorage, ByteRange } from './asset-storage.js';

/**
 * Assets in MongoDB GridFS (bucket `assets`), so every instance serves every file. A file is visible once
 * its last chunk and its files document are written; a key written again replaces the older version.
 */
export function createGridFsStorage(db: Db): AssetStorage {
  const bucket = new GridFSBucket(db, { bucketName: 'assets' });
  const chunks = db.collection('assets.chunks');

  async function versionsOf(key: string) {
    return bucket.find({ filename: key }, { sort: { uploadDate: -1 } }).toArray();
  }

  return {
    kind: 'gridfs',
    async put(key, bytes) {
      const older = await versionsOf(key);
      const upload = bucket.openUploadStream(key);
      try {
        await new Promise<void>((resolve, reject) => {
          upload.once('finish', () => resolve());
          upload.once('error', reject);
          upload.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        });
      } catch (error) {
        // An upload that failed part way leaves the chunks it wrote, which no files document will claim.
        await chunks.deleteMany({ files_id: upload.id }).catch(() => undefined);
        throw error;
      }
      for (const file of older) await bucket.delete(file._id);
    },
    async read(key, range?: ByteRange): Promise<Readable> {
      const [latest] = await versionsOf(key);
      if (!latest) throw new Error(`no stored file named ${key}`);
      // GridFS ranges end exclusively; ByteRange ends inclusively.
      return bucket.openDownloadStream(latest._id, range ? { start: range.start, end: range.end + 1 } : {});
    },
    async delete(key) {
      for (const file of await versionsOf(key)) await bucket.delete(file._id);
    },
  };
}
