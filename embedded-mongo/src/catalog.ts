import { UUID, type Document } from 'bson';

import { Collection } from './collection.js';
import { ErrorCode, MongoServerError } from './errors.js';
import type { JournalRecord } from './journal-records.js';

export type RecordSink = (record: JournalRecord) => void;

const INVALID_DB_CHARS = /[/\\. "$\0]/;

export function validateDatabaseName(db: unknown): string {
  if (typeof db !== 'string' || db.length === 0 || db.length > 63 || INVALID_DB_CHARS.test(db)) {
    throw new MongoServerError(ErrorCode.InvalidNamespace, `Invalid database name: '${String(db)}'`);
  }
  return db;
}

export function validateCollectionName(db: string, name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.includes('\0') ||
    name.startsWith('.') ||
    name.includes('$')
  ) {
    throw new MongoServerError(ErrorCode.InvalidNamespace, `Invalid collection name: ${db}.${String(name)}`);
  }
  return name;
}

/** All databases and their collections, and the one place journal records are produced and replayed. */
export class Catalog {
  private readonly databases = new Map<string, Map<string, Collection>>();
  private sink: RecordSink;

  constructor(sink: RecordSink = () => {}) {
    this.sink = sink;
  }

  /** Routes future change records to the journal (after replay, which must not re-journal). */
  setSink(sink: RecordSink): void {
    this.sink = sink;
  }

  databaseNames(): string[] {
    return [...this.databases.entries()]
      .filter(([, collections]) => collections.size > 0)
      .map(([name]) => name);
  }

  collections(db: string): Collection[] {
    return [...(this.databases.get(db)?.values() ?? [])];
  }

  allCollections(): Collection[] {
    return [...this.databases.values()].flatMap((collections) => [...collections.values()]);
  }

  collection(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  /** The collection, created implicitly as inserts, upserts and createIndexes do. */
  ensureCollection(db: string, name: string): Collection {
    return this.collection(db, name) ?? this.createCollection(db, name, {});
  }

  createCollection(db: string, name: string, options: Document, uuid?: UUID): Collection {
    validateDatabaseName(db);
    validateCollectionName(db, name);
    if (this.collection(db, name)) {
      throw new MongoServerError(ErrorCode.NamespaceExists, `Collection ${db}.${name} already exists.`);
    }
    let collections = this.databases.get(db);
    if (!collections) {
      collections = new Map();
      this.databases.set(db, collections);
    }
    const collection = new Collection(db, name, options, (record) => this.sink(record), uuid);
    collections.set(name, collection);
    this.sink({ op: 'createCollection', db, c: name, options, uuid: collection.uuid });
    return collection;
  }

  dropCollection(db: string, name: string): boolean {
    const collections = this.databases.get(db);
    if (!collections?.delete(name)) return false;
    this.sink({ op: 'dropCollection', db, c: name });
    return true;
  }

  dropDatabase(db: string): void {
    if (!this.databases.delete(db)) return;
    this.sink({ op: 'dropDatabase', db });
  }

  /** Applies one journal record during start-up replay. */
  replay(record: JournalRecord): void {
    switch (record.op) {
      case 'put': {
        const collection = this.ensureCollection(record.db, record.c);
        const current = collection.findById(record.doc._id);
        if (current) collection.replace(current, record.doc);
        else collection.insert(record.doc);
        return;
      }
      case 'del': {
        const collection = this.collection(record.db, record.c);
        const current = collection?.findById(record.id);
        if (collection && current) collection.remove(current);
        return;
      }
      case 'createCollection':
        if (!this.collection(record.db, record.c)) {
          this.createCollection(
            record.db,
            record.c,
            record.options,
            record.uuid instanceof UUID ? record.uuid : undefined,
          );
        }
        return;
      case 'dropCollection':
        this.dropCollection(record.db, record.c);
        return;
      case 'dropDatabase':
        this.dropDatabase(record.db);
        return;
      case 'createIndex':
        this.ensureCollection(record.db, record.c).createIndex(record.spec);
        return;
      case 'dropIndex':
        this.collection(record.db, record.c)?.dropIndex(record.name);
        return;
    }
  }

  /** The whole state as records that rebuild it, for a snapshot. */
  *snapshotRecords(): Generator<JournalRecord> {
    for (const collection of this.allCollections()) {
      const { db, name } = collection;
      yield { op: 'createCollection', db, c: name, options: collection.options, uuid: collection.uuid };
      for (const spec of collection.indexSpecs())
        if (spec.name !== '_id_') yield { op: 'createIndex', db, c: name, spec };
      for (const doc of collection.documents()) yield { op: 'put', db, c: name, doc };
    }
  }
}
