import type { Connection } from 'mongoose';

import type { Config } from '../config.js';
import type { AssetStorage } from './asset-storage.js';
import { createGridFsStorage } from './gridfs-storage.js';
import { createLocalStorage } from './local-storage.js';
import { createAssetUrlSigner, type AssetUrlSigner } from './signed-urls.js';

/** Where asset files live (a local directory or GridFS, as configured) and how their URLs are signed. */
export function createConfiguredStorage(
  config: Pick<Config, 'assets' | 'jwtSecret' | 'publicUrl'>,
  connection: Connection,
): { storage: AssetStorage; signer: AssetUrlSigner } {
  const storage =
    config.assets.storage === 'gridfs'
      ? createGridFsStorage(openDb(connection))
      : createLocalStorage(config.assets.dir);
  const signer = createAssetUrlSigner(config.jwtSecret, config.publicUrl, config.assets.urlTtlSeconds);
  return { storage, signer };
}

function openDb(connection: Connection) {
  if (!connection.db) throw new Error('the database connection is not open');
  return connection.db;
}
