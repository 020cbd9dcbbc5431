import { BSON, Long, type Document } from 'bson';

import { ErrorCode, MongoServerError } from './errors.js';

const DEFAULT_FIRST_BATCH = 101;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

interface OpenCursor {
  namespace: string;
  remaining: Document[];
  lastUsed: number;
}

export interface CursorReply {
  id: Long;
  ns: string;
  firstBatch?: Document[];
  nextBatch?: Document[];
}

/** Server-side cursors: results wait here between getMore calls and expire when left idle. */
export class CursorRegistry {
  private readonly cursors = new Map<string, OpenCursor>();
  private nextId = 1;

  /** The first batch of `docs`, keeping the rest for getMore unless it all fits or `singleBatch` is set. */
  open(namespace: string, docs: Document[], batchSize: number | undefined, singleBatch = false): CursorReply {
    this.reapIdle();
    const firstBatch = takeBatch(docs, batchSize ?? DEFAULT_FIRST_BATCH);
    if (singleBatch || docs.length === 0) return { id: Long.ZERO, ns: namespace, firstBatch };
    const id = this.nextId++;
    this.cursors.set(String(id), { namespace, remaining: docs, lastUsed: Date.now() });
    return { id: Long.fromNumber(id), ns: namespace, firstBatch };
  }

  getMore(id: unknown, namespace: string, batchSize: number | undefined): CursorReply {
    const key = String(id);
    const cursor = this.cursors.get(key);
    if (!cursor || cursor.namespace !== namespace) {
      throw new MongoServerError(ErrorCode.CursorNotFound, `cursor id ${key} not found`);
    }
    cursor.lastUsed = Date.now();
    const nextBatch = takeBatch(cursor.remaining, batchSize ?? Number.MAX_SAFE_INTEGER);
    if (cursor.remaining.length === 0) {
      this.cursors.delete(key);
      return { id: Long.ZERO, ns: namespace, nextBatch };
    }
    return { id: Long.fromString(key), ns: namespace, nextBatch };
  }

  kill(ids: unknown[]): { killed: Long[]; notFound: Long[] } {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const id of ids) {
      const long = Long.fromString(String(id));
      (this.cursors.delete(String(id)) ? killed : notFound).push(long);
    }
    return { killed, notFound };
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const [id, cursor] of this.cursors)
      if (now - cursor.lastUsed > IDLE_TIMEOUT_MS) this.cursors.delete(id);
  }
}

/** Removes and returns up to `size` documents from the front, never more than 16 MiB (at least one). */
function takeBatch(docs: Document[], size: number): Document[] {
  let count = 0;
  let bytes = 0;
  while (count < docs.length && count < size) {
    bytes += BSON.calculateObjectSize(docs[count] as Document);
    if (bytes > MAX_BATCH_BYTES && count > 0) break;
    count += 1;
  }
  return docs.splice(0, count);
}
