import type { Document } from 'bson';

import type { IndexSpec } from './collection-index.js';

/** One change to the stored data, as written to the journal and replayed at start. */
export type JournalRecord =
  | { op: 'put'; db: string; c: string; doc: Document }
  | { op: 'del'; db: string; c: string; id: unknown }
  | { op: 'createCollection'; db: string; c: string; options: Document; uuid?: unknown }
  | { op: 'dropCollection'; db: string; c: string }
  /** A collection's or view's options replaced as a whole (collMod). */
  | { op: 'collMod'; db: string; c: string; options: Document }
  | { op: 'dropDatabase'; db: string }
  | { op: 'createIndex'; db: string; c: string; spec: IndexSpec }
  | { op: 'dropIndex'; db: string; c: string; name: string };
