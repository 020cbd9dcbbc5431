import type { Document } from 'bson';
import { Query } from 'mingo';
import { valuesAtPath } from './document-paths.js';
import { ErrorCode, MongoServerError } from './errors.js';
import { valueKey } from './value-keys.js';

/** An index as listIndexes shows it. */
export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
}

const UNSUPPORTED_INDEX_TYPES = new Set(['text', '2d', '2dsphere', 'geoHaystack', 'columnstore']);

/** Checks an index specification the way createIndexes does, before anything is built. */
export function validateIndexSpec(raw: Document): IndexSpec {
  const key = raw.key as unknown;
  if (key === null || typeof key !== 'object' || Array.isArray(key) || Object.keys(key).length === 0) {
    throw new MongoServerError(ErrorCode.CannotCreateIndex, 'Index keys cannot be empty.');
  }
  if (typeof raw.name !== 'string' || raw.name.length === 0) {
    throw new MongoServerError(ErrorCode.CannotCreateIndex, "The 'name' field is a required property of an index specification");
  }
  for (const [field, direction] of Object.entries(key as Document)) {
    if (UNSUPPORTED_INDEX_TYPES.has(String(direction))) {
      throw new MongoServerError(
        ErrorCode.CannotCreateIndex,
        `Index type '${String(direction)}' on field '${field}' is not supported by this server`,
      );
    }
    const numeric = typeof direction === 'number' && direction !== 0 && Number.isFinite(direction);
    if (!numeric && direction !== 'hashed') {
      throw new MongoServerError(ErrorCode.CannotCreateIndex, `Values in the index key pattern can't be ${String(direction)}`);
    }
  }
  if (raw.expireAfterSeconds !== undefined) {
    if (Object.keys(key as Document).length !== 1) {
      throw new MongoServerError(ErrorCode.CannotCreateIndex, 'TTL indexes are single-field indexes, compound indexes do not support TTL.');
    }
    if (typeof raw.expireAfterSeconds !== 'number' || raw.expireAfterSeconds < 0) {
      throw new MongoServerError(ErrorCode.CannotCreateIndex, 'expireAfterSeconds must be a non-negative number');
    }
  }
  if (raw.partialFilterExpression !== undefined && (typeof raw.partialFilterExpression !== 'object' || raw.partialFilterExpression === null)) {
    throw new MongoServerError(ErrorCode.CannotCreateIndex, 'partialFilterExpression must be an object');
  }
  return { ...raw, v: 2, key: key as Document, name: raw.name };
}

/** True when two specs describe the same index options (name aside). */
export function sameIndexOptions(a: IndexSpec, b: IndexSpec): boolean {
  return (
    Boolean(a.unique) === Boolean(b.unique) &&
    Boolean(a.sparse) === Boolean(b.sparse) &&
    a.expireAfterSeconds === b.expireAfterSeconds &&
    valueKey(a.partialFilterExpression) === valueKey(b.partialFilterExpression)
  );
}

export interface IndexEntry {
  key: string;
  values: unknown[];
}

/** One secondary (or `_id`) index: its entries map each key to the documents holding it. */
export class CollectionIndex {
  readonly spec: IndexSpec;
  readonly fields: string[];
  private readonly partialFilter: Query | undefined;
  private readonly entries = new Map<string, Set<string>>();
  /** For compound indexes: documents by their first field's value, for filters that pin only that prefix. */
  private readonly byFirstField = new Map<string, Set<string>>();

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.partialFilter = spec.partialFilterExpression ? new Query(spec.partialFilterExpression) : undefined;
  }

  get unique(): boolean {
    return this.spec.unique === true || this.spec.name === '_id_';
  }

  /** The keys a document contributes to this index; none when sparse or partial rules leave it out. */
  entriesFor(doc: Document): IndexEntry[] {
    if (this.partialFilter && !this.partialFilter.test(doc)) return [];
    const perField = this.fields.map((field) => valuesAtPath(doc, field));
    if (this.spec.sparse && perField.every((values) => values.length === 1 && values[0] === undefined)) return [];
    let combos: unknown[][] = [[]];
    for (const values of perField) {
      const next: unknown[][] = [];
      for (const combo of combos) for (const value of values) next.push([...combo, value ?? null]);
      combos = next;
    }
    const seen = new Map<string, IndexEntry>();
    for (const values of combos) {
      const key = values.map(valueKey).join('|');
      if (!seen.has(key)) seen.set(key, { key, values });
    }
    return [...seen.values()];
  }

  /**
   * The entry of `doc` that another document already holds in a unique index, if any. `ownKey` is
   * the stored document being replaced (its own entries are no conflict); undefined for an insert.
   */
  findConflict(doc: Document, ownKey: string | undefined): IndexEntry | undefined {
    if (!this.unique) return undefined;
    for (const entry of this.entriesFor(doc)) {
      const holders = this.entries.get(entry.key);
      if (!holders) continue;
      for (const holder of holders) if (holder !== ownKey) return entry;
    }
    return undefined;
  }

  add(doc: Document, docKey: string): void {
    for (const { key, values } of this.entriesFor(doc)) {
      addTo(this.entries, key, docKey);
      if (this.fields.length > 1) addTo(this.byFirstField, valueKey(values[0]), docKey);
    }
  }

  remove(doc: Document, docKey: string): void {
    for (const { key, values } of this.entriesFor(doc)) {
      removeFrom(this.entries, key, docKey);
      if (this.fields.length > 1) removeFrom(this.byFirstField, valueKey(values[0]), docKey);
    }
  }

  /** Whether equalities on all of its fields can be answered from this index alone (every document has entries). */
  get answersEqualities(): boolean {
    return !this.partialFilter && !this.spec.sparse && !Object.values(this.spec.key).includes('hashed');
  }

  /** Documents whose indexed fields equal `values`, one value per field in index order. */
  lookupAll(values: unknown[]): ReadonlySet<string> {
    return this.entries.get(values.map(valueKey).join('|')) ?? new Set();
  }

  /** Documents whose first indexed field equals `value`. */
  lookupFirst(value: unknown): ReadonlySet<string> {
    return (this.fields.length > 1 ? this.byFirstField : this.entries).get(valueKey(value)) ?? new Set();
  }

  clear(): void {
    this.entries.clear();
    this.byFirstField.clear();
  }
}

function formatKeyValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value !== null && typeof value === 'object' && (value as { _bsontype?: string })._bsontype === 'ObjectId') {
    return `ObjectId('${String(value)}')`;
  }
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** MongoDB's E11000 error, with the key pattern and value drivers and mongoose read. */
export function duplicateKeyError(namespace: string, index: CollectionIndex, entry: IndexEntry): MongoServerError {
  const keyValue: Document = {};
  index.fields.forEach((field, position) => {
    keyValue[field] = entry.values[position];
  });
  const shown = index.fields.map((field, position) => `${field}: ${formatKeyValue(entry.values[position])}`).join(', ');
  return new MongoServerError(
    ErrorCode.DuplicateKey,
    `E11000 duplicate key error collection: ${namespace} index: ${index.spec.name} dup key: { ${shown} }`,
    { keyPattern: { ...index.spec.key }, keyValue },
  );
}

function addTo(map: Map<string, Set<string>>, key: string, docKey: string): void {
  let holders = map.get(key);
  if (!holders) {
    holders = new Set();
    map.set(key, holders);
  }
  holders.add(docKey);
}

function removeFrom(map: Map<string, Set<string>>, key: string, docKey: string): void {
  const holders = map.get(key);
  if (!holders) return;
  holders.delete(docKey);
  if (holders.size === 0) map.delete(key);
}
