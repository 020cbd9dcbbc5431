import { ObjectId, UUID, type Document } from 'bson';

import { parseCollation, sameCollation, type Collation } from './collation.js';
import {
  CollectionIndex,
  duplicateKeyError,
  sameIndexOptions,
  validateIndexSpec,
  type IndexSpec,
  type RangeBounds,
} from './collection-index.js';
import { DocumentValidator, type ValidationWarningSink } from './document-validation.js';
import { ErrorCode, MongoServerError } from './errors.js';
import type { JournalRecord } from './journal-records.js';
import { isIndexableScalar, valueKey } from './value-keys.js';

export type ChangeSink = (record: JournalRecord) => void;

const ID_INDEX_SPEC: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

/**
 * One collection: its documents in natural (insertion) order and its indexes. Every mutation checks
 * all unique indexes first and changes nothing when one would be violated.
 */
export class Collection {
  readonly db: string;
  readonly name: string;
  readonly uuid: UUID;
  private collectionOptions: Document;
  private validator: DocumentValidator | undefined;
  private readonly warn: ValidationWarningSink;
  /** The collection's default collation (create's `collation`), for operations and indexes that name none. */
  readonly defaultCollation: Collation | undefined;
  private readonly docs = new Map<string, Document>();
  private readonly indexes = new Map<string, CollectionIndex>();
  /** Documents whose `_id` is not an ObjectId: index walks order ties by `_id` key, which is value order for ObjectIds only. */
  private otherIds = 0;
  private readonly record: ChangeSink;

  constructor(
    db: string,
    name: string,
    options: Document,
    record: ChangeSink,
    uuid?: UUID,
    warn: ValidationWarningSink = () => {},
  ) {
    this.db = db;
    this.name = name;
    this.record = record;
    this.warn = warn;
    this.collectionOptions = options;
    this.validator = DocumentValidator.fromOptions(this.namespace, options, warn);
    this.uuid = uuid ?? new UUID();
    this.defaultCollation = options.collation ? parseCollation(options.collation) : undefined;
    // The _id index takes the collection's default collation, as in mongod.
    const idIndex = this.defaultCollation
      ? { ...ID_INDEX_SPEC, collation: { ...this.defaultCollation.spec } }
      : ID_INDEX_SPEC;
    this.indexes.set('_id_', new CollectionIndex(idIndex));
  }

  get namespace(): string {
    return `${this.db}.${this.name}`;
  }

  get options(): Document {
    return this.collectionOptions;
  }

  /** collMod: replaces the options as a whole (the caller has checked them and journals the change). */
  setOptions(options: Document): void {
    this.collectionOptions = options;
    this.validator = DocumentValidator.fromOptions(this.namespace, options, this.warn);
  }

  get count(): number {
    return this.docs.size;
  }

  documents(): Document[] {
    return Array.from(this.docs.values());
  }

  indexSpecs(): IndexSpec[] {
    return [...this.indexes.values()].map((index) => index.spec);
  }

  ttlIndexes(): IndexSpec[] {
    return this.indexSpecs().filter((spec) => typeof spec.expireAfterSeconds === 'number');
  }

  /**
   * The documents that can match `filter`, narrowed through the index that leaves the fewest, as
   * MongoDB's planner would pick: one whose fields the filter all pins to scalars, or whose first field
   * it pins. The caller still applies the full filter. An index whose collation differs from the query's
   * is used only for values other than strings (which compare the same under every collation).
   */
  candidates(filter: Document, collation?: Collation): Document[] {
    const { keys, ranged } = this.equalityLookup(filter, collation);
    let best = keys;
    if (best?.size === 0) return [];
    const consider = (found: ReadonlySet<string>): void => {
      if (!best || found.size < best.size) best = found;
    };
    if (!best || best.size > RANGE_WALK_THRESHOLD) {
      // A range that holds a large share of the collection is answered faster by a scan.
      const worthWalking = Math.min(
        best?.size ?? Infinity,
        Math.ceil(this.docs.size / RANGE_SHARE_WORTH_WALKING),
      );
      for (const index of ranged) {
        const bounds = rangeBounds(filter[index.fields[0] as string]);
        const keys = bounds ? index.range(bounds, worthWalking) : undefined;
        if (keys) consider(keys);
      }
    }
    // An index lookup that keeps a large share of the collection is slower than a scan in natural order
    // (one random map lookup per key on top of the same test of every document).
    if (!best || best.size > this.docs.size / EQUALITY_SHARE_WORTH_LOOKING_UP) return this.documents();
    const found: Document[] = [];
    for (const key of best as ReadonlySet<string>) {
      const doc = this.docs.get(key);
      if (doc) found.push(doc);
    }
    return found;
  }

  /**
   * The fewest document keys an index gives for the filter's equalities (its sets as they are: their sizes
   * are known without copying), and the indexes that could answer a range on their first field instead.
   */
  private equalityLookup(
    filter: Document,
    collation: Collation | undefined,
  ): { keys: ReadonlySet<string> | undefined; ranged: CollectionIndex[] } {
    let best: ReadonlySet<string> | undefined;
    const consider = (keys: ReadonlySet<string>): void => {
      if (!best || keys.size < best.size) best = keys;
    };
    const ranged: CollectionIndex[] = [];
    for (const index of this.indexes.values()) {
      if (!index.answersEqualities) continue;
      const collationMatches = sameCollation(index.collation, collation);
      const perField = index.fields.map((field) => {
        const values = Object.hasOwn(filter, field) ? equalityValues(filter[field]) : undefined;
        return collationMatches || !values?.some(isString) ? values : undefined;
      });
      if (perField.every((values) => values !== undefined)) {
        let combos: unknown[][] = [[]];
        for (const values of perField as unknown[][])
          combos = combos.flatMap((combo) => values.map((value) => [...combo, value]));
        consider(unionOf(combos.map((combo) => index.lookupAll(combo))));
      } else if (perField[0] !== undefined) {
        consider(unionOf(perField[0].map((value) => index.lookupFirst(value))));
      } else if (index.answersRanges && Object.hasOwn(filter, index.fields[0] as string)) {
        if (collationMatches) ranged.push(index);
      }
      if (best?.size === 0) break;
    }
    return { keys: best, ranged };
  }

  /**
   * The first `count` documents passing `test` (the whole of `filter`, binary string comparison) in `sort`
   * order, found by walking an index as mongod does: the filter pins the index's first fields to one value
   * each, and the sort names the fields after them, all the same way round (then perhaps `_id`, which the
   * walk's ties follow while every `_id` is an ObjectId, whose key order is its value order). The walk
   * stops as soon as they are found. Undefined when no index gives that order, or when another index
   * narrows the filter much further than the walk would.
   */
  firstInIndexOrder(
    filter: Document | undefined,
    sort: Document,
    count: number,
    test: (doc: Document) => boolean,
  ): Document[] | undefined {
    const plan = this.sortWalk(filter ?? {}, sort);
    if (!plan) return undefined;
    const found: Document[] = [];
    for (const key of plan.index.inOrder(plan.prefix, plan.direction)) {
      const doc = this.docs.get(key);
      if (!doc || !test(doc)) continue;
      found.push(doc);
      if (found.length === count) break;
    }
    return found;
  }

  /** The index walk that gives `sort` for `filter` with the fewest documents to walk, if one is worth it. */
  private sortWalk(
    filter: Document,
    sort: Document,
  ): { index: CollectionIndex; prefix: unknown[]; direction: 1 | -1 } | undefined {
    const sortFields = Object.keys(sort);
    const direction = sort[sortFields[0] as string] as unknown;
    if (direction !== 1 && direction !== -1) return undefined;
    if (sortFields[0] === '_id' || sortFields.some((field) => sort[field] !== direction)) return undefined;
    let best: { index: CollectionIndex; prefix: unknown[]; walk: number } | undefined;
    for (const index of this.indexes.values()) {
      if (!index.givesOrder) continue;
      const prefix: unknown[] = [];
      for (const field of index.fields) {
        const values = Object.hasOwn(filter, field) ? equalityValues(filter[field]) : undefined;
        if (values?.length !== 1 || sortFields.includes(field)) break;
        prefix.push(values[0]);
      }
      const rest = index.fields.slice(prefix.length);
      // A last `_id` beyond the index's fields is the walk's own tie order (by document key).
      const named =
        sortFields.length === rest.length + 1 && sortFields.at(-1) === '_id'
          ? sortFields.slice(0, -1)
          : sortFields;
      if (named.length === 0 || named.some((field, position) => rest[position] !== field)) continue;
      if (named !== sortFields && this.otherIds > 0) continue;
      const walk = index.walkSize(prefix, this.docs.size);
      if (!best || walk < best.walk) best = { index, prefix, walk };
    }
    if (!best) return undefined;
    // Another index that leaves far fewer documents for the filter is cheaper to scan and sort.
    const { keys } = this.equalityLookup(filter, undefined);
    if (keys && keys.size * WALK_SHARE_WORTH_WALKING < best.walk) return undefined;
    return { index: best.index, prefix: best.prefix, direction };
  }

  findById(id: unknown): Document | undefined {
    return this.docs.get(valueKey(id));
  }

  /**
   * Inserts a document, giving it an ObjectId `_id` first when it has none; `validate` applies the
   * collection's validator (writes from clients, unless they bypass it; never a replay).
   */
  insert(input: Document, validate = false): Document {
    // mongod stores _id as the first field, generating an ObjectId when there is none.
    const { _id: id = new ObjectId(), ...fields } = input;
    const doc: Document = { _id: id, ...fields };
    validateIdValue(doc._id);
    if (validate) this.validator?.check(doc);
    const key = valueKey(doc._id);
    this.assertNoConflicts(doc, undefined);
    this.docs.set(key, doc);
    if (!(doc._id instanceof ObjectId)) this.otherIds += 1;
    for (const index of this.indexes.values()) index.add(doc, key);
    this.record({ op: 'put', db: this.db, c: this.name, doc });
    return doc;
  }

  /** Replaces a stored document by a new version with the same `_id` (`validate` as for insert). */
  replace(current: Document, next: Document, validate = false): void {
    const key = valueKey(current._id);
    if (valueKey(next._id) !== key) {
      throw new MongoServerError(
        ErrorCode.ImmutableField,
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    }
    if (validate) this.validator?.check(next, current);
    this.assertNoConflicts(next, key);
    this.docs.set(key, next);
    for (const index of this.indexes.values()) index.replace(current, next, key);
    this.record({ op: 'put', db: this.db, c: this.name, doc: next });
  }

  remove(doc: Document): void {
    const key = valueKey(doc._id);
    if (!this.docs.delete(key)) return;
    if (!(doc._id instanceof ObjectId)) this.otherIds -= 1;
    for (const index of this.indexes.values()) index.remove(doc, key);
    this.record({ op: 'del', db: this.db, c: this.name, id: doc._id });
  }

  /** Adds an index, building it over the existing documents; false when an identical one exists. */
  createIndex(raw: Document): boolean {
    const spec = validateIndexSpec(raw, this.defaultCollation);
    const keyPattern = valueKey(spec.key);
    for (const existing of this.indexes.values()) {
      const sameKey = valueKey(existing.spec.key) === keyPattern;
      if (existing.spec.name === spec.name) {
        if (sameKey && sameIndexOptions(existing.spec, spec)) return false;
        throw new MongoServerError(
          sameKey ? ErrorCode.IndexOptionsConflict : ErrorCode.IndexKeySpecsConflict,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(existing.spec)}`,
        );
      }
      if (sameKey && sameIndexOptions(existing.spec, spec)) {
        throw new MongoServerError(
          ErrorCode.IndexOptionsConflict,
          `Index already exists with a different name: ${existing.spec.name}`,
        );
      }
    }
    const index = new CollectionIndex(spec);
    for (const doc of this.docs.values()) {
      const conflict = index.findConflict(doc, undefined);
      if (conflict) throw duplicateKeyError(this.namespace, index, conflict);
      index.add(doc, valueKey(doc._id));
    }
    this.indexes.set(spec.name, index);
    this.record({ op: 'createIndex', db: this.db, c: this.name, spec });
    return true;
  }

  /** Drops one index by name or key pattern; `_id_` cannot be dropped. */
  dropIndex(nameOrKey: string | Document): void {
    const index = this.findIndex(nameOrKey);
    if (index.spec.name === '_id_')
      throw new MongoServerError(ErrorCode.InvalidNamespace, 'cannot drop _id index');
    this.indexes.delete(index.spec.name);
    this.record({ op: 'dropIndex', db: this.db, c: this.name, name: index.spec.name });
  }

  /** collMod's TTL change: a TTL index's expireAfterSeconds; answers the old value. */
  setExpireAfterSeconds(nameOrKey: string | Document, seconds: number): number {
    const index = this.findIndex(nameOrKey);
    const old = index.spec.expireAfterSeconds;
    if (old === undefined)
      throw new MongoServerError(ErrorCode.InvalidOptions, 'no expireAfterSeconds field to update');
    if (!Number.isInteger(seconds) || seconds < 0)
      throw new MongoServerError(
        ErrorCode.InvalidOptions,
        'expireAfterSeconds must be a non-negative integer',
      );
    index.spec.expireAfterSeconds = seconds;
    // The journal knows indexes by their spec: the changed spec replaces the old one on replay.
    this.record({ op: 'dropIndex', db: this.db, c: this.name, name: index.spec.name });
    this.record({ op: 'createIndex', db: this.db, c: this.name, spec: { ...index.spec } });
    return old;
  }

  private findIndex(nameOrKey: string | Document): CollectionIndex {
    const index =
      typeof nameOrKey === 'string'
        ? this.indexes.get(nameOrKey)
        : [...this.indexes.values()].find(
            (candidate) => valueKey(candidate.spec.key) === valueKey(nameOrKey),
          );
    if (!index) {
      const shown = typeof nameOrKey === 'string' ? nameOrKey : JSON.stringify(nameOrKey);
      throw new MongoServerError(ErrorCode.IndexNotFound, `index not found with name [${shown}]`);
    }
    return index;
  }

  dropAllIndexes(): void {
    for (const name of [...this.indexes.keys()]) if (name !== '_id_') this.dropIndex(name);
  }

  private assertNoConflicts(doc: Document, key: string | undefined): void {
    for (const index of this.indexes.values()) {
      const conflict = index.findConflict(doc, key);
      if (conflict) throw duplicateKeyError(this.namespace, index, conflict);
    }
  }
}

/** Below this many documents from an equality lookup, walking a range index is not worth it. */
const RANGE_WALK_THRESHOLD = 1_000;
/** Equality lookups keeping more than one in this many of the collection's documents scan instead. */
const EQUALITY_SHARE_WORTH_LOOKING_UP = 4;
/** A range walk stops (and the documents are scanned instead) past one in this many of the collection's documents. */
const RANGE_SHARE_WORTH_WALKING = 8;
/** A walk in sort order is left for a scan of an equality lookup's documents when it holds this many times more. */
const WALK_SHARE_WORTH_WALKING = 8;

function isString(value: unknown): boolean {
  return typeof value === 'string';
}

/** One set as it is, several as their union. */
function unionOf(sets: ReadonlyArray<ReadonlySet<string>>): ReadonlySet<string> {
  if (sets.length === 1) return sets[0] as ReadonlySet<string>;
  const union = new Set<string>();
  for (const set of sets) for (const key of set) union.add(key);
  return union;
}

function validateIdValue(id: unknown): void {
  if (Array.isArray(id)) {
    throw new MongoServerError(ErrorCode.InvalidIdField, 'The _id value cannot be of type array');
  }
  if (id instanceof RegExp) {
    throw new MongoServerError(ErrorCode.InvalidIdField, "can't use a regex for _id");
  }
  if (typeof id === 'object' && id !== null && !('_bsontype' in id) && !(id instanceof Date)) {
    const field = dollarPrefixedField(id);
    if (field !== undefined)
      throw new MongoServerError(
        ErrorCode.DollarPrefixedFieldName,
        `_id fields may not contain '$'-prefixed fields: ${field} is not valid for storage.`,
      );
  }
}

const DBREF_FIELDS = new Set(['$ref', '$id', '$db']);

/** The first `$`-prefixed field name inside an embedded `_id` (DBRef fields aside), as mongod's storage check finds it. */
function dollarPrefixedField(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || '_bsontype' in value || value instanceof Date)
    return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (!Array.isArray(value) && key.startsWith('$') && !DBREF_FIELDS.has(key)) return key;
    const nested = dollarPrefixedField(inner);
    if (nested !== undefined) return nested;
  }
  return undefined;
}

const RANGE_OPERATORS = new Set(['$gt', '$gte', '$lt', '$lte']);

/** The bounds of a condition made only of $gt/$gte/$lt/$lte on scalars, or undefined. */
function rangeBounds(condition: unknown): RangeBounds | undefined {
  if (
    condition === null ||
    typeof condition !== 'object' ||
    Array.isArray(condition) ||
    condition instanceof Date
  )
    return undefined;
  const entries = Object.entries(condition as Document);
  if (
    entries.length === 0 ||
    entries.some(([operator, operand]) => !RANGE_OPERATORS.has(operator) || !isIndexableScalar(operand))
  )
    return undefined;
  const bounds: RangeBounds = {};
  for (const [operator, operand] of entries) {
    if (operator === '$gt' || operator === '$gte') bounds.low = operand;
    else bounds.high = operand;
  }
  return bounds;
}

/** The scalar values a filter condition pins a field to, or undefined when it is not a plain equality. */
function equalityValues(condition: unknown): unknown[] | undefined {
  if (isIndexableScalar(condition)) return [condition];
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) return undefined;
  const operators = Object.keys(condition);
  if (operators.length !== 1) return undefined;
  const operand = (condition as Document)[operators[0] as string];
  if (operators[0] === '$eq' && isIndexableScalar(operand)) return [operand];
  if (operators[0] === '$in' && Array.isArray(operand) && operand.every(isIndexableScalar)) return operand;
  return undefined;
}
