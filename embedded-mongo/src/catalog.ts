import { UUID, type Document } from 'bson';

import { Collection } from './collection.js';
import type { ValidationWarningSink } from './document-validation.js';
import { ErrorCode, MongoServerError } from './errors.js';
import type { JournalRecord } from './journal-records.js';
import { checkViewGraph, viewOptions, type ViewDefinition } from './views.js';

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
  private readonly viewsByDatabase = new Map<string, Map<string, ViewDefinition>>();
  private sink: RecordSink;
  private warn: ValidationWarningSink = () => {};

  constructor(sink: RecordSink = () => {}) {
    this.sink = sink;
  }

  /** Where validators with `validationAction: 'warn'` report the documents they let through. */
  setWarningSink(warn: ValidationWarningSink): void {
    this.warn = warn;
  }

  /** Routes future change records to the journal (after replay, which must not re-journal). */
  setSink(sink: RecordSink): void {
    this.sink = sink;
  }

  databaseNames(): string[] {
    const names = [...this.databases.entries()]
      .filter(([, collections]) => collections.size > 0)
      .map(([name]) => name);
    for (const [name, views] of this.viewsByDatabase)
      if (views.size > 0 && !names.includes(name)) names.push(name);
    return names;
  }

  views(db: string): ViewDefinition[] {
    return [...(this.viewsByDatabase.get(db)?.values() ?? [])];
  }

  view(db: string, name: string): ViewDefinition | undefined {
    return this.viewsByDatabase.get(db)?.get(name);
  }

  /** A read-only view; its pipeline is checked by the caller, its `viewOn` chain here. */
  createView(db: string, name: string, viewOn: string, pipeline: Document[], checked = true): ViewDefinition {
    validateDatabaseName(db);
    validateCollectionName(db, name);
    this.assertNameFree(db, name);
    const view: ViewDefinition = { db, name, viewOn, pipeline };
    if (checked) checkViewGraph(view, (other) => this.view(db, other));
    let views = this.viewsByDatabase.get(db);
    if (!views) {
      views = new Map();
      this.viewsByDatabase.set(db, views);
    }
    views.set(name, view);
    this.sink({ op: 'createCollection', db, c: name, options: viewOptions(view) });
    return view;
  }

  /**
   * collMod's change of a collection's or view's options, as a whole: a view's new `viewOn` chain is
   * checked; a collection's validator takes effect for the next write.
   */
  modifyOptions(db: string, name: string, options: Document, checked = true): void {
    const view = this.view(db, name);
    if (view) {
      const changed: ViewDefinition = {
        db,
        name,
        viewOn: options.viewOn as string,
        pipeline: options.pipeline as Document[],
      };
      if (checked) checkViewGraph(changed, (other) => (other === name ? changed : this.view(db, other)));
      this.viewsByDatabase.get(db)?.set(name, changed);
    } else {
      const collection = this.collection(db, name);
      if (!collection) return;
      collection.setOptions(options);
    }
    this.sink({ op: 'collMod', db, c: name, options });
  }

  private assertNameFree(db: string, name: string): void {
    if (this.collection(db, name) || this.view(db, name))
      throw new MongoServerError(ErrorCode.NamespaceExists, `Collection ${db}.${name} already exists.`);
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

  /** The collection, created implicitly as inserts, upserts and createIndexes do; never over a view. */
  ensureCollection(db: string, name: string): Collection {
    const existing = this.collection(db, name);
    if (existing) return existing;
    if (this.view(db, name))
      throw new MongoServerError(
        ErrorCode.CommandNotSupportedOnView,
        `Namespace ${db}.${name} is a view, not a collection`,
      );
    return this.createCollection(db, name, {});
  }

  createCollection(db: string, name: string, options: Document, uuid?: UUID): Collection {
    validateDatabaseName(db);
    validateCollectionName(db, name);
    this.assertNameFree(db, name);
    let collections = this.databases.get(db);
    if (!collections) {
      collections = new Map();
      this.databases.set(db, collections);
    }
    const collection = new Collection(
      db,
      name,
      options,
      (record) => this.sink(record),
      uuid,
      (message) => this.warn(message),
    );
    collections.set(name, collection);
    this.sink({ op: 'createCollection', db, c: name, options, uuid: collection.uuid });
    return collection;
  }

  /** Drops a collection or a view. */
  dropCollection(db: string, name: string): boolean {
    const collections = this.databases.get(db);
    if (!collections?.delete(name) && !this.viewsByDatabase.get(db)?.delete(name)) return false;
    this.sink({ op: 'dropCollection', db, c: name });
    return true;
  }

  dropDatabase(db: string): void {
    const hadViews = this.viewsByDatabase.delete(db);
    if (!this.databases.delete(db) && !hadViews) return;
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
        if (typeof record.options.viewOn === 'string') {
          // Journalled views were checked when created; replay restores them as they were.
          if (!this.view(record.db, record.c))
            this.createView(record.db, record.c, record.options.viewOn, record.options.pipeline ?? [], false);
        } else if (!this.collection(record.db, record.c)) {
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
      case 'collMod':
        this.modifyOptions(record.db, record.c, record.options, false);
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
    for (const views of this.viewsByDatabase.values())
      for (const view of views.values())
        yield { op: 'createCollection', db: view.db, c: view.name, options: viewOptions(view) };
  }
}
