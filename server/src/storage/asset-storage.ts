import type { Readable } from 'node:stream';

/** An inclusive byte range of a stored object. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where asset bytes live. Keys are made by the server, never taken from a request. */
export interface AssetStorage {
  readonly kind: 'local' | 'gridfs';
  /** Stores the bytes under the key; a reader never sees a partly written object. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or the range of them. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** Removes the object; a missing one is not an error. */
  delete(key: string): Promise<void>;
}
