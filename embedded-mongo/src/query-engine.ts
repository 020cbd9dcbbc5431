import type { Document } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { Context, ProcessingMode } from 'mingo/core';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { Query } from 'mingo/query';
import type { Options } from 'mingo/types';
import { resolve } from 'mingo/util';

import { mongodAccumulators } from './accumulators.js';
import { collatedOperators } from './collated-operators.js';
import type { Collation } from './collation.js';
import { doubleResultAccumulators, doubleResultExpressionOperators } from './double-result-operators.js';
import { ErrorCode, fromQueryEngineError, MongoServerError } from './errors.js';
import { fastFilter, fastGroup, fastSort, firstInOrder } from './fast-stages.js';
import { indexArgumentOperators } from './index-argument-operators.js';
import { schemaPredicate } from './json-schema.js';
import {
  numericAccumulators,
  numericExpressionOperators,
  numericQueryOperators,
} from './numeric-operators.js';
import { refusingRegex } from './regex-arguments.js';
import { zoneAwareDateOperators } from './time-zones.js';
import { compareValues } from './value-order.js';
import { setWindowFieldsStage } from './window-bounds.js';
import { covarianceAccumulators, numericWindowOperators, windowStageFunction } from './window-operators.js';

/** Up to this many documents, a sorted find keeps a bounded list instead of sorting every match. */
const TOP_K_LIMIT = 1000;

/** Resolves a collection name of the current database to its documents, for $lookup and friends. */
export type CollectionResolver = (name: string) => Document[];

export interface QueryOptions {
  resolve?: CollectionResolver;
  variables?: Document;
  /** A non-simple collation strings compare by; absent for the simple binary one. */
  collation?: Collation;
}

/**
 * Every operator the engine knows, with date operators that read every timezone mongod reads and
 * numeric operators that keep BSON number types as mongod does.
 */
const OPERATOR_SET = {
  accumulator: {
    ...accumulatorOperators,
    ...mongodAccumulators,
    ...numericAccumulators,
    ...doubleResultAccumulators,
    ...covarianceAccumulators,
  },
  expression: {
    ...expressionOperators,
    ...zoneAwareDateOperators,
    ...numericExpressionOperators,
    ...doubleResultExpressionOperators,
    ...indexArgumentOperators,
    $function: windowStageFunction,
  },
  pipeline: { ...pipelineOperators, $setWindowFields: setWindowFieldsStage },
  projection: projectionOperators,
  query: refusingRegex({
    ...queryOperators,
    ...numericQueryOperators,
  }),
  window: { ...windowOperators, ...numericWindowOperators },
};
const OPERATORS = Context.init(OPERATOR_SET as Parameters<typeof Context.init>[0]);

/** The operators per collation, built once each: string comparisons go through the collator. */
const collatedContexts = new WeakMap<Collation, Context>();

function operatorsFor(collation: Collation | undefined): Context {
  if (!collation) return OPERATORS;
  let context = collatedContexts.get(collation);
  if (!context) {
    const collated = collatedOperators(collation);
    context = Context.init({
      ...OPERATOR_SET,
      accumulator: { ...OPERATOR_SET.accumulator, ...collated.accumulator },
      expression: { ...OPERATOR_SET.expression, ...collated.expression },
      pipeline: { ...OPERATOR_SET.pipeline, ...collated.pipeline },
      query: { ...OPERATOR_SET.query, ...collated.query },
    } as Parameters<typeof Context.init>[0]);
    collatedContexts.set(collation, context);
  }
  return context;
}

export function engineOptions(
  options: QueryOptions = {},
  processingMode = ProcessingMode.CLONE_OFF,
): Partial<Options> {
  return {
    context: operatorsFor(options.collation),
    idKey: '_id',
    useStrictMode: true,
    // Server-side JavaScript ($where, $function, $accumulator) is never run.
    scriptEnabled: false,
    processingMode,
    jsonSchemaValidator: schemaPredicate,
    ...(options.resolve ? { collectionResolver: options.resolve } : {}),
    ...(options.variables ? { variables: options.variables } : {}),
  };
}

function withMongoErrors<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw fromQueryEngineError(error);
  }
}

export function assertDocument(value: unknown, field: string): Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `BSON field '${field}' is the wrong type, expected type 'object'`,
    );
  }
  return value as Document;
}

/** A compiled filter; throws MongoDB's error for an unknown operator when compiled. */
export function compileFilter(filter: Document | undefined, options: QueryOptions = {}): Query {
  return withMongoErrors(() => new Query(filter ?? {}, engineOptions(options)));
}

export interface FindOptions extends QueryOptions {
  sort?: Document;
  skip?: number;
  limit?: number;
  projection?: Document;
}

/** Filters, sorts, pages and projects documents the way the find command does. */
export function runFind(
  docs: Document[],
  filter: Document | undefined,
  options: FindOptions = {},
): Document[] {
  if (options.collation) return runCollatedFind(docs, filter, options);
  return withMongoErrors(() => {
    const projection =
      options.projection && Object.keys(options.projection).length > 0 ? options.projection : undefined;
    // Simple filters are tested natively; the engine then only sorts, pages and projects.
    const matched = fastFilter(docs, filter);
    // Nothing left for the engine to do: the natively matched documents are the answer as they are.
    if (matched && !projection && !options.sort && !options.skip && !options.limit) return matched;
    const query = new Query(matched ? {} : (filter ?? {}), engineOptions(options));
    const candidates = matched ?? docs;
    const wanted = (options.skip ?? 0) + (options.limit ?? 0);
    if (options.sort && options.limit && wanted <= TOP_K_LIMIT && candidates.length > wanted * 4) {
      const first = firstInOrder(matched ?? docs.filter((doc) => query.test(doc)), options.sort, wanted);
      if (first)
        return new Query({}, engineOptions(options))
          .find(first.slice(options.skip ?? 0), projection)
          .all() as Document[];
    }
    let cursor = query.find(candidates, projection);
    if (options.sort && Object.keys(options.sort).length > 0)
      cursor = cursor.sort(options.sort as Record<string, 1 | -1>);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.all() as Document[];
  });
}

/** A find under a collation: the engine filters, the collated $sort orders, then the page is projected. */
function runCollatedFind(docs: Document[], filter: Document | undefined, options: FindOptions): Document[] {
  return withMongoErrors(() => {
    const engine = engineOptions(options);
    let found = new Query(filter ?? {}, engine).find(docs).all() as Document[];
    if (options.sort && Object.keys(options.sort).length > 0)
      found = new Aggregator([{ $sort: options.sort }], engine).run(found) as Document[];
    const start = options.skip ?? 0;
    const page = found.slice(start, options.limit ? start + options.limit : undefined);
    if (!options.projection || Object.keys(options.projection).length === 0) return page;
    return new Query({}, engine).find(page, options.projection).all() as Document[];
  });
}

/** Runs an aggregation pipeline over copies of the documents (stages never touch stored data). */
/** Stages that only read their input documents, so they may run on the stored documents themselves. */
const READ_ONLY_STAGES = new Set(['$match', '$group', '$count', '$skip', '$limit', '$sort', '$sortByCount']);

/** Stages whose output documents are new ones: whatever follows them cannot touch stored documents. */
const PRODUCING_STAGES = new Set(['$group', '$count', '$sortByCount', '$bucket', '$bucketAuto']);

/** True when no stage can change an input document: only reading stages until one that makes new documents. */
function readsOnly(pipeline: Document[]): boolean {
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0] ?? '';
    if (PRODUCING_STAGES.has(name)) return true;
    if (!READ_ONLY_STAGES.has(name)) return false;
  }
  return true;
}

/** Runs a pipeline; the stored documents are copied first unless no stage can change them. */
export function runPipeline(
  docs: Document[],
  pipeline: Document[],
  options: QueryOptions = {},
  { copyInput = false } = {},
): Document[] {
  let input = docs;
  let stages = pipeline;
  // Leading $sort and $group stages run natively when their shape allows (binary strings only): they read documents only.
  while (stages.length > 0 && !options.collation) {
    const [name, spec] = Object.entries(stages[0] as Document)[0] ?? [];
    const done =
      name === '$sort'
        ? fastSort(input, spec)
        : name === '$group'
          ? fastGroup(input, spec as Document)
          : undefined;
    if (!done) break;
    input = done;
    stages = stages.slice(1);
    if (name === '$group') copyInput = false;
  }
  if (stages.length === 0) return input;
  const readOnly = !copyInput && readsOnly(stages);
  return withMongoErrors(
    () =>
      new Aggregator(
        stages,
        engineOptions(options, readOnly ? ProcessingMode.CLONE_OFF : ProcessingMode.CLONE_INPUT),
      ).run(input) as Document[],
  );
}

/** Projects one document (findAndModify `fields`). */
export function projectOne(doc: Document, projection: Document | undefined): Document {
  if (!projection || Object.keys(projection).length === 0) return doc;
  return runFind([doc], {}, { projection })[0] ?? doc;
}

export { compareValues };

/**
 * The first matching document in sort order, found in one pass instead of a full sort. Returns
 * `{}` when nothing matches and undefined when a sort field holds an array (MongoDB then orders by
 * the array's extreme element; the caller falls back to the full sort for that).
 */
export function firstInSortOrder(
  docs: Document[],
  test: (doc: Document) => boolean,
  sort: Document,
  compare: (a: unknown, b: unknown) => number = compareValues,
): { doc?: Document } | undefined {
  const keys = Object.entries(sort).map(([field, direction]) => [field, direction === -1 ? -1 : 1] as const);
  const readers = keys.map(([field]) => fieldReader(field));
  let best: Document | undefined;
  let bestValues: unknown[] = [];
  // One array reused for every document's values: a scan of thousands allocates nothing per document.
  const values: unknown[] = new Array(keys.length);
  for (const doc of docs) {
    if (!test(doc)) continue;
    for (let position = 0; position < readers.length; position += 1) {
      const value = (readers[position] as (doc: Document) => unknown)(doc);
      if (Array.isArray(value)) return undefined;
      values[position] = value;
    }
    if (best === undefined || isBefore(values, bestValues, keys, compare)) {
      best = doc;
      bestValues = values.slice();
    }
  }
  return best ? { doc: best } : {};
}

/** Object.prototype's own property names: the engine reads them only as own fields (and refuses `__proto__`). */
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Reads a sort key's value as the engine's `resolve` does, directly for a plain top-level field; a missing
 * field sorts as null, as MongoDB treats the two alike.
 */
function fieldReader(field: string): (doc: Document) => unknown {
  if (field.includes('.') || PROTOTYPE_NAMES.has(field)) return (doc) => resolve(doc, field) ?? null;
  return (doc) => doc[field] ?? null;
}

function isBefore(
  values: unknown[],
  than: unknown[],
  keys: ReadonlyArray<readonly [string, number]>,
  compare: (a: unknown, b: unknown) => number,
): boolean {
  for (let position = 0; position < keys.length; position += 1) {
    const order = compare(values[position], than[position]) * (keys[position]?.[1] ?? 1);
    if (order !== 0) return order < 0;
  }
  return false;
}
