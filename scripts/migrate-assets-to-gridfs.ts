import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { createGridFsStorage } from '@gen3d/server';

import { runAdminTask } from './lib/admin-session.js';

const USAGE = `usage: pnpm migrate-assets [--dir <assets directory>]
Copies every asset file from the local assets directory (ASSETS_DIR, or --dir) into GridFS, so the server
can run with ASSET_STORAGE=gridfs. Files already in GridFS with the same size are skipped, so the copy can
be run again after an interruption. Local files are left in place.`;

interface AssetRow {
  storageKey: string;
  bytes: number;
}

await runAdminTask(USAGE, async (_services, { config, connection }) => {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  const dir = values.dir ?? config.assets.dir;
  const db = connection.db;
  if (!db) throw new Error('the database connection is not open');
  const storage = createGridFsStorage(db);
  const files = db.collection<{ filename: string; length: number }>('assets.files');
  let copied = 0;
  let skipped = 0;
  const missing: string[] = [];
  for await (const asset of db
    .collection<AssetRow>('assets')
    .find({}, { projection: { storageKey: 1, bytes: 1 } })) {
    if (await files.findOne({ filename: asset.storageKey, length: asset.bytes })) {
      skipped += 1;
      continue;
    }
    const bytes = await readFile(join(dir, asset.storageKey)).catch(() => undefined);
    if (!bytes) {
      missing.push(asset.storageKey);
      continue;
    }
    await storage.put(asset.storageKey, bytes);
    copied += 1;
  }
  const report = `copied ${copied} asset files into GridFS, ${skipped} were already there`;
  if (missing.length > 0)
    throw new Error(
      `${report}; ${missing.length} files were not found under ${dir}, e.g. ${missing.slice(0, 3).join(', ')}`,
    );
  return report;
});
