import { createRequire } from 'node:module';

import type { Document } from 'bson';
import { Query } from 'mingo';

import { numericKind, toJsNumber } from './bson-numbers.js';
import { CollationKeys, parseCollation, type Collation } from './collation.js';
import { pathHoldsArray, valuesAtPath } from './document-paths.js';
import { ErrorCode, MongoServerError } from './errors.js';
import { valueKey } from './value-keys.js';
import { compareValues } from './value-order.js';

/** An index as listIndexes shows it. */
export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
  /** The full collation spec, when the index has a non-simple collation. */
  collation?: Document;
}

const UNSUPPORTED_INDEX_TYPES = new Set(['text', '2d', '2dsphere', 'geoHaystack', 'columnstore']);

/**
 * Checks an index specification the way createIndexes does, before anything is built. An index without
 * a `collation` takes the collection's default one; `{locale: "simple"}` asks for binary comparison.
 */
export function validateIndexSpec(raw: Document, collectionCollation?: Collation): IndexSpec {
  const key = raw.key as unknown;
  if (key === null || typeof key !== 'object' || Array.isArray(key) || Object.keys(key).length === 0) {
    throw new MongoServerError(ErrorCode.CannotCreateIndex, 'Index keys cannot be empty.');
  }
  if (typeof raw.name !== 'string' || raw.name.length === 0) {
    throw new MongoServerError(
      ErrorCode.CannotCreateIndex,
      "The 'name' field is a required property of an index specification",
    );
  }
  // Directions and expireAfterSeconds may come as any BSON number (a Java or Python client's long or
  // double); the index keeps them as plain numbers, which is how everything below reads them.
  const plainKey: Document = {};
  for (const [field, given] of Object.entries(key as Document)) {
    const direction = numericKind(given) ? toJsNumber(given) : (given as unknown);
    plainKey[field] = direction;
    if (UNSUPPORTED_INDEX_TYPES.has(String(direction))) {
      throw new MongoServerError(
        ErrorCode.CannotCreateIndex,
        `Index type '${String(direction)}' on field '${field}' is not supported by this server`,
      );
    }
    const numeric = typeof direction === 'number' && direction !== 0 && Number.isFinite(direction);
    if (!numeric && direction !== 'hashed') {
      throw new MongoServerError(
        ErrorCode.CannotCreateIndex,
        `Values in the index key pattern can't be ${String(direction)}`,
      );
    }
  }
  if (raw.expireAfterSeconds !== undefined) {
    if (Object.keys(key as Document).length !== 1) {
      throw new MongoServerError(
        ErrorCode.CannotCreateIndex,
        'TTL indexes are single-field indexes, compound indexes do not support TTL.',
      );
    }
    if (!numericKind(raw.expireAfterSeconds) || toJsNumber(raw.expireAfterSeconds) < 0) {
      throw new MongoServerError(
        ErrorCode.CannotCreateIndex,
        'expireAfterSeconds must be a non-negative number',
      );
    }
  }
  if (
    raw.partialFilterExpression !== undefined &&
    (typeof raw.partialFilterExpression !== 'object' || raw.partialFilterExpression === null)
  ) {
    throw new MongoServerError(ErrorCode.CannotCreateIndex, 'partialFilterExpression must be an object');
  }
  const { collation: rawCollation, ...rest } = raw;
  const collation = rawCollation === undefined ? collectionCollation : parseCollation(rawCollation);
  return {
    ...rest,
    v: 2,
    key: plainKey,
    name: raw.name,
    ...(raw.expireAfterSeconds !== undefined
      ? { expireAfterSeconds: toJsNumber(raw.expireAfterSeconds) }
      : {}),
    ...(collation ? { collation: { ...collation.spec } } : {}),
  };
}

/** True when two specs describe the same index options (name aside). */
export function sameIndexOptions(a: IndexSpec, b: IndexSpec): boolean {
  return (
    Boolean(a.unique) === Boolean(b.unique) &&
    Boolean(a.sparse) === Boolean(b.sparse) &&
    a.expireAfterSeconds === b.expireAfterSeconds &&
    valueKey(a.partialFilterExpression) === valueKey(b.partialFilterExpression) &&
    valueKey(a.collation) === valueKey(b.collation)
  );
}

/** What the index uses of sorted-btree's BTree. */
interface OrderedKeys<K> {
  set(key: K, value: true): boolean;
  delete(key: K): boolean;
  clear(): void;
  forRange(low: K, high: K, includeHigh: boolean, onFound: (key: K) => void): number;
  keys(firstKey?: K): IterableIterator<K>;
  entriesReversed(highestKey?: K): IterableIterator<[K, unknown]>;
}

// sorted-btree is CommonJS with its class on `default`; require() reads it the same way under node and tsx.
const { default: BTree } = createRequire(import.meta.url)('sorted-btree') as {
  default: new <K>(entries: undefined, compare: (a: K, b: K) => number) => OrderedKeys<K>;
};

const LOWEST = Symbol('lowest');
const HIGHEST = Symbol('highest');

/**
 * A position in an ordered index: the indexed values in the index's field order (each may be an end
 * marker, in a bound), then the document key. Every field is kept ascending whatever its direction, so
 * a walk either way round gives any sort whose fields all go the same way.
 */
type OrderKey = [unknown[], string];

function orderKeyComparator(compare: (a: unknown, b: unknown) => number) {
  return ([a, aKey]: OrderKey, [b, bKey]: OrderKey): number => {
    for (let position = 0; position < a.length; position += 1) {
      const left = a[position];
      const right = b[position];
      if (left === right) continue;
      if (left === LOWEST || right === HIGHEST) return -1;
      if (left === HIGHEST || right === LOWEST) return 1;
      const order = compare(left, right);
      if (order !== 0) return order;
    }
    return aKey < bKey ? -1 : aKey > bKey ? 1 : 0;
  };
}

const compareOrderKeys = orderKeyComparator(compareValues);

/** Bounds of a range condition; an absent side is open. Both ends are inclusive (callers re-check the filter). */
export interface RangeBounds {
  low?: unknown;
  high?: unknown;
}

export interface IndexEntry {
  key: string;
  values: unknown[];
}

/** One secondary (or `_id`) index: its entries map each key to the documents holding it. */
export class CollectionIndex {
  readonly spec: IndexSpec;
  readonly fields: string[];
  /** The index's non-simple collation: its keys compare strings by it. */
  readonly collation: Collation | undefined;
  /** The equality key of one indexed value (its BSON value key, or its collated key). */
  private readonly keyOf: (value: unknown) => string;
  /** The key to look a value up by; undefined when no indexed value can equal it. */
  private readonly lookupKeyOf: (value: unknown) => string | undefined;
  private readonly partialFilter: Query | undefined;
  private readonly entries = new Map<string, Set<string>>();
  /** For compound indexes: documents by their first field's value, for filters that pin only that prefix. */
  private readonly byFirstField = new Map<string, Set<string>>();
  /** For secondary indexes: entries in BSON order, for range conditions and walks in sort order. */
  private readonly ordered: OrderedKeys<OrderKey> | undefined;
  /** Set once a document holds several values for a field (an array): then one array may meet each bound with a different element. */
  private multikey = false;
  /** Set once a document holds an array (even of one element, or empty) in an indexed field: its sort key is then not its entry. */
  private holdsArrays = false;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.collation = spec.collation ? parseCollation(spec.collation) : undefined;
    if (this.collation) {
      const keys = new CollationKeys(this.collation);
      this.keyOf = (value) => keys.keyOf(value);
      this.lookupKeyOf = (value) => keys.lookupKey(value);
    } else {
      this.keyOf = valueKey;
      this.lookupKeyOf = valueKey;
    }
    this.partialFilter = spec.partialFilterExpression ? new Query(spec.partialFilterExpression) : undefined;
    const orderable =
      spec.name !== '_id_' && this.fields.every((field) => typeof spec.key[field] === 'number');
    const compare = this.collation ? orderKeyComparator(this.collation.compare) : compareOrderKeys;
    this.ordered = orderable ? new BTree<OrderKey>(undefined, compare) : undefined;
  }

  get unique(): boolean {
    return this.spec.unique === true || this.spec.name === '_id_';
  }

  /** The keys a document contributes to this index; none when sparse or partial rules leave it out. */
  entriesFor(doc: Document): IndexEntry[] {
    if (this.partialFilter && !this.partialFilter.test(doc)) return [];
    const perField = this.fields.map((field) => valuesAtPath(doc, field));
    if (this.spec.sparse && perField.every((values) => values.length === 1 && values[0] === undefined))
      return [];
    // The usual case: one value per field, so one entry.
    if (perField.every((values) => values.length === 1)) {
      const values = perField.map((found) => found[0] ?? null);
      return [{ key: values.map(this.keyOf).join('|'), values }];
    }
    let combos: unknown[][] = [[]];
    for (const values of perField) {
      const next: unknown[][] = [];
      for (const combo of combos) for (const value of values) next.push([...combo, value ?? null]);
      combos = next;
    }
    const seen = new Map<string, IndexEntry>();
    for (const values of combos) {
      const key = values.map(this.keyOf).join('|');
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
    this.addEntries(this.entriesFor(doc), doc, docKey);
  }

  remove(doc: Document, docKey: string): void {
    this.removeEntries(this.entriesFor(doc), docKey);
  }

  /** Moves a document's entries to its next version; an index whose entries stay the same is left as it is. */
  replace(current: Document, next: Document, docKey: string): void {
    const before = this.entriesFor(current);
    const after = this.entriesFor(next);
    if (
      before.length === after.length &&
      before.every((entry, position) => entry.key === after[position]?.key)
    ) {
      // The same entries, yet a field may now be an array of one element.
      this.noteArrays(next);
      return;
    }
    this.removeEntries(before, docKey);
    this.addEntries(after, next, docKey);
  }

  private addEntries(entries: IndexEntry[], doc: Document, docKey: string): void {
    if (entries.length > 1) this.multikey = true;
    this.noteArrays(doc);
    for (const { key, values } of entries) {
      addTo(this.entries, key, docKey);
      if (this.fields.length > 1) addTo(this.byFirstField, this.keyOf(values[0]), docKey);
      this.ordered?.set([values, docKey], true);
    }
  }

  private removeEntries(entries: IndexEntry[], docKey: string): void {
    for (const { key, values } of entries) {
      removeFrom(this.entries, key, docKey);
      if (this.fields.length > 1) removeFrom(this.byFirstField, this.keyOf(values[0]), docKey);
      this.ordered?.delete([values, docKey]);
    }
  }

  private noteArrays(doc: Document): void {
    if (!this.holdsArrays && this.fields.some((field) => pathHoldsArray(doc, field))) this.holdsArrays = true;
  }

  /** Whether equalities on all of its fields can be answered from this index alone (every document has entries). */
  get answersEqualities(): boolean {
    return !this.partialFilter && !this.spec.sparse && !Object.values(this.spec.key).includes('hashed');
  }

  /** Documents whose indexed fields equal `values`, one value per field in index order. */
  lookupAll(values: unknown[]): ReadonlySet<string> {
    const keys = values.map(this.lookupKeyOf);
    if (keys.includes(undefined)) return new Set();
    return this.entries.get(keys.join('|')) ?? new Set();
  }

  /** Documents whose first indexed field equals `value`. */
  lookupFirst(value: unknown): ReadonlySet<string> {
    const key = this.lookupKeyOf(value);
    if (key === undefined) return new Set();
    return (this.fields.length > 1 ? this.byFirstField : this.entries).get(key) ?? new Set();
  }

  /** Whether range conditions on its first field can be answered from this index. */
  get answersRanges(): boolean {
    return this.ordered !== undefined && this.answersEqualities;
  }

  /**
   * Documents whose first indexed value lies within the bounds (inclusive); only for indexes that answer
   * ranges. Undefined once more than `atMost` are found: scanning every document is then cheaper than the walk.
   */
  range(bounds: RangeBounds, atMost = Infinity): Set<string> | undefined {
    // On a multikey index only one bound narrows, as in MongoDB: the filter re-checks the other.
    const { low, high } =
      this.multikey && bounds.low !== undefined ? { low: bounds.low, high: undefined } : bounds;
    const found = new Set<string>();
    let tooMany = false;
    this.ordered?.forRange(
      this.bound([low === undefined ? LOWEST : low], LOWEST),
      this.bound([high === undefined ? HIGHEST : high], HIGHEST),
      true,
      (key: OrderKey) => {
        found.add(key[1]);
        if (found.size > atMost) {
          tooMany = true;
          return { break: true };
        }
        return undefined;
      },
    );
    return tooMany ? undefined : found;
  }

  /** The index position before (LOWEST) or after (HIGHEST) every entry starting with `values`. */
  private bound(values: unknown[], end: typeof LOWEST | typeof HIGHEST): OrderKey {
    const padded = [...values];
    while (padded.length < this.fields.length) padded.push(end);
    return [padded, end === LOWEST ? '' : '\uffff'];
  }

  /**
   * Keys of the documents whose first indexed fields equal `prefix` (one value each), in the order of the
   * fields after it, ties by document key, the same way round; only when `givesOrder`.
   */
  *inOrder(prefix: unknown[], direction: 1 | -1): Generator<string, void, undefined> {
    const ordered = this.ordered as OrderedKeys<OrderKey>;
    const low = this.bound(prefix, LOWEST);
    const high = this.bound(prefix, HIGHEST);
    if (direction === 1) {
      for (const key of ordered.keys(low)) {
        if (compareOrderKeys(key, high) > 0) return;
        yield key[1];
      }
    } else {
      for (const [key] of ordered.entriesReversed(high)) {
        if (compareOrderKeys(key, low) < 0) return;
        yield key[1];
      }
    }
  }

  /** At most how many documents `inOrder(prefix)` walks: those holding the prefix's first value. */
  walkSize(prefix: unknown[], collectionSize: number): number {
    return prefix.length === 0 ? collectionSize : this.lookupFirst(prefix[0]).size;
  }

  /** Whether `inOrder` may be used: an ordered index over every document, holding no arrays. */
  get givesOrder(): boolean {
    return this.answersRanges && !this.multikey && !this.holdsArrays && !this.collation;
  }

  clear(): void {
    this.entries.clear();
    this.byFirstField.clear();
    this.ordered?.clear();
  }
}

function formatKeyValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (
    value !== null &&
    typeof value === 'object' &&
    (value as { _bsontype?: string })._bsontype === 'ObjectId'
  ) {
    return `ObjectId('${String(value)}')`;
  }
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** MongoDB's E11000 error, with the key pattern and value drivers and mongoose read. */
export function duplicateKeyError(
  namespace: string,
  index: CollectionIndex,
  entry: IndexEntry,
): MongoServerError {
  const keyValue: Document = {};
  index.fields.forEach((field, position) => {
    keyValue[field] = entry.values[position];
  });
  const shown = index.fields
    .map((field, position) => `${field}: ${formatKeyValue(entry.values[position])}`)
    .join(', ');
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
