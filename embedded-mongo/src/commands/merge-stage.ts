import { BSON, ObjectId, type Document } from 'bson';

import type { Catalog } from '../catalog.js';
import type { Collection } from '../collection.js';
import { ErrorCode, fromQueryEngineError, MongoServerError } from '../errors.js';
import { compileFilter, runPipeline, type QueryOptions } from '../query-engine.js';
import { applyUpdate, buildUpsert, PIPELINE_UPDATE_STAGES, upsertSeed } from '../update-engine.js';
import { isIndexableScalar } from '../value-keys.js';
import { MergeErrorCode, type MergeSpec } from './merge-spec.js';

/** mongod writes `$merge` results in batches of at most this many documents… */
const MAX_BATCH_DOCUMENTS = 100_000;
/** …and about this many bytes; a failed batch stops the stage, earlier batches stay written. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** One result on its way to the target: the document and the query its `on` fields make. */
interface BatchItem {
  doc: Document;
  query: Document;
}

/**
 * The `on` fields of a result as an equality query. mongod refuses a result whose `on` field is an
 * array, or missing, null or undefined, before anything of its batch is written.
 */
function onQuery(doc: Document, on: readonly string[]): Document {
  const query: Document = {};
  for (const path of on) {
    let value: unknown = doc;
    for (const part of path.split('.')) {
      value =
        value !== null && typeof value === 'object' && !Array.isArray(value)
          ? (value as Document)[part]
          : undefined;
    }
    if (Array.isArray(value))
      throw new MongoServerError(
        MergeErrorCode.Location51185,
        `$merge write error: 'on' field '${path}' is an array`,
      );
    if (value === null || value === undefined)
      throw new MongoServerError(
        MergeErrorCode.Location51132,
        `$merge write error: 'on' field '${path}' cannot be missing, null, undefined or an array`,
      );
    query[path] = value;
  }
  return query;
}

/** Field names in the order mongod's update operators apply them: numeric names by number, others as strings. */
function compareFieldNames(a: string, b: string): number {
  const numeric = /^\d+$/;
  if (numeric.test(a) && numeric.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `{$set: fields}` with whole top-level fields, as mongod applies it for `merge` and `keepExisting`:
 * fields already there change in place, new ones are appended in field-name order.
 */
function setFields(base: Document, fields: Document): Document {
  const next: Document = { ...base };
  const added: string[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('$'))
      throw new MongoServerError(
        ErrorCode.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${field}' in '${field}' is not valid for storage.`,
      );
    if (field in base) next[field] = value;
    else added.push(field);
  }
  for (const field of added.sort(compareFieldNames)) next[field] = fields[field];
  return next;
}

function isChanged(before: Document, after: Document): boolean {
  return !Buffer.from(BSON.serialize(before)).equals(BSON.serialize(after));
}

/** Adds mongod's context to the first error of a batch, keeping its code and details. */
function withContext(error: MongoServerError, spec: MergeSpec): MongoServerError {
  if (error.code === ErrorCode.ImmutableField)
    return new MongoServerError(
      error.code,
      `$merge failed to update the matching document, did you attempt to modify the _id or the shard key? :: caused by :: ${error.message}`,
      error.extra,
    );
  if (error.code !== ErrorCode.DuplicateKey) return error;
  const keyFields = Object.keys((error.extra.keyPattern as Document | undefined) ?? {});
  const onTheOnFields =
    keyFields.length === spec.on.length && spec.on.every((field) => keyFields.includes(field));
  const context =
    spec.whenMatched === 'fail' && onTheOnFields
      ? "$merge with whenMatched: fail found an existing document with the same values for the 'on' fields"
      : '$merge failed due to a DuplicateKey error';
  return new MongoServerError(error.code, `${context} :: caused by :: ${error.message}`, error.extra);
}

/** Writes `$merge` results into their target collection the way mongod 7.0 does. */
class MergeWriter {
  private readonly onIncludesId: boolean;
  private readonly idOnly: boolean;

  constructor(
    private readonly catalog: Catalog,
    private readonly spec: MergeSpec,
    private readonly options: QueryOptions,
    /** False when the aggregate bypasses document validation. */
    private readonly validate: boolean,
  ) {
    this.onIncludesId = spec.on.includes('_id');
    this.idOnly = spec.on.length === 1 && this.onIncludesId;
  }

  /** Batches the results and writes each batch; the first failing batch ends the stage with its error. */
  write(results: Document[]): void {
    let batch: BatchItem[] = [];
    let bytes = 0;
    for (const result of results) {
      const item = this.batchItem(result);
      const size = BSON.calculateObjectSize(item.doc);
      if (batch.length > 0 && (bytes + size > MAX_BATCH_BYTES || batch.length >= MAX_BATCH_DOCUMENTS)) {
        this.flush(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += size;
    }
    if (batch.length > 0) this.flush(batch);
  }

  private batchItem(result: Document): BatchItem {
    // A result without an _id gets one when _id is an `on` field, as mongod generates it.
    const doc = this.onIncludesId && result._id === undefined ? { ...result, _id: new ObjectId() } : result;
    return { doc, query: onQuery(doc, this.spec.on) };
  }

  /**
   * Writes one batch unordered, as mongod does: every document is attempted, then the first error
   * (with mongod's context) is raised; with whenNotMatched `fail`, a document without a match fails the
   * batch once the rest are written.
   */
  private flush(batch: BatchItem[]): void {
    const pipeline = this.spec.whenMatched;
    if (Array.isArray(pipeline)) {
      const forbidden = pipeline
        .map((stage) => Object.keys(stage)[0] ?? '')
        .find((name) => !PIPELINE_UPDATE_STAGES.has(name));
      if (forbidden !== undefined)
        throw new MongoServerError(
          ErrorCode.InvalidOptions,
          `${forbidden} is not allowed to be used within an update`,
        );
    }
    let firstError: MongoServerError | undefined;
    let matched = 0;
    for (const item of batch) {
      try {
        if (this.writeOne(item)) matched += 1;
      } catch (error) {
        firstError ??= fromQueryEngineError(error);
      }
    }
    if (firstError) throw withContext(firstError, this.spec);
    if (this.spec.whenNotMatched === 'fail' && matched !== batch.length)
      throw new MongoServerError(
        ErrorCode.MergeStageNoMatchingDocument,
        '$merge could not find a matching document in the target collection for at least one document in the source collection',
      );
  }

  /** Writes one result; true when it matched a document of the target. */
  private writeOne({ doc, query }: BatchItem): boolean {
    const { whenMatched, whenNotMatched } = this.spec;
    if (whenMatched === 'fail') {
      // Plain inserts: the unique index on the `on` fields refuses a match with DuplicateKey.
      this.target().insert(doc, this.validate);
      return false;
    }
    const collection = this.catalog.collection(this.spec.db, this.spec.coll);
    const current = collection ? this.findMatch(collection, query) : undefined;
    if (collection && current) {
      if (whenMatched === 'keepExisting') return true;
      const next = Array.isArray(whenMatched)
        ? this.applyPipeline(current, whenMatched, doc)
        : whenMatched === 'merge'
          ? setFields(current, doc)
          : applyUpdate(current, doc, { inserting: false, query });
      if (isChanged(current, next)) collection.replace(current, next, this.validate);
      return true;
    }
    if (whenNotMatched !== 'insert') return false;
    // The upsert's document: the result itself (pipeline), the replacement with the query's _id, or
    // the query's equality fields with the result's fields set on them.
    const inserted = Array.isArray(whenMatched)
      ? doc
      : whenMatched === 'replace'
        ? buildUpsert(query, doc, undefined)
        : setFields(upsertSeed(query), doc);
    this.target().insert(inserted, this.validate);
    return false;
  }

  private target(): Collection {
    return this.catalog.ensureCollection(this.spec.db, this.spec.coll);
  }

  /** The target document the `on` query matches (a unique index guarantees at most one). */
  private findMatch(collection: Collection, query: Document): Document | undefined {
    if (this.idOnly && isIndexableScalar(query._id)) return collection.findById(query._id);
    const filter = compileFilter(query);
    return collection.candidates(query).find((candidate) => filter.test(candidate));
  }

  /** The whenMatched pipeline run on the matched document, with `let` evaluated against the result. */
  private applyPipeline(current: Document, pipeline: Document[], doc: Document): Document {
    const letSpec = this.spec.let ?? {};
    const [evaluated = {}] = runPipeline([doc], [{ $replaceWith: letSpec }], this.options, {
      copyInput: true,
    });
    const variables: Document = { ...this.options.variables };
    for (const name of Object.keys(letSpec)) variables[name] = evaluated[name];
    const [result = {}] = runPipeline(
      [current],
      pipeline,
      { ...this.options, variables },
      { copyInput: true },
    );
    return result._id === undefined ? { _id: current._id, ...result } : result;
  }
}

/** `$merge`: writes the pipeline's results into the target as its modes say. */
export function writeMergeOutput(
  catalog: Catalog,
  spec: MergeSpec,
  results: Document[],
  options: QueryOptions,
  validate: boolean,
): void {
  new MergeWriter(catalog, spec, options, validate).write(results);
}
