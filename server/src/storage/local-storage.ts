import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';

import type { AssetStorage, ByteRange } from './asset-storage.js';

/** Assets as files under one directory: written to a temporary name, flushed, then renamed into place. */
export function createLocalStorage(root: string): AssetStorage {
  const base = resolve(root);
  const pathOf = (key: string): string => {
    const path = resolve(base, key);
    if (!path.startsWith(base + sep)) throw new Error(`storage key escapes the assets directory: ${key}`);
    return path;
  };
  return {
    kind: 'local',
    async put(key, bytes) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temporary = join(dirname(path), `.${process.pid}.${Date.now()}.partial`);
      const file = await open(temporary, 'w');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
    },
    async read(key, range?: ByteRange): Promise<Readable> {
      const stream = createReadStream(pathOf(key), range ? { start: range.start, end: range.end } : {});
      await new Promise<void>((resolveOpen, reject) => {
        stream.once('open', () => resolveOpen());
        stream.once('error', reject);
      });
      return stream;
    },
    async delete(key) {
      const path = pathOf(key);
      await rm(path, { force: true });
      // The per-asset directory goes too once empty.
      await rmdir(dirname(path)).catch(() => undefined);
    },
  };
}
