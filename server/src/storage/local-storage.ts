import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';

import type { AssetStorage, ByteRange } from './asset-storage.js';

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

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
      const directory = dirname(path);
      const firstCreated = await mkdir(directory, { recursive: true });
      const temporary = join(directory, `.${process.pid}.${Date.now()}.partial`);
      const file = await open(temporary, 'w');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
      // The file's name, and the names of the directories just made for it, are only durable once the
      // directories holding them are flushed too; until then a crash could lose an acknowledged file.
      await syncDirectory(directory);
      if (firstCreated !== undefined)
        for (let made = directory; made !== dirname(firstCreated); made = dirname(made))
          await syncDirectory(dirname(made));
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
