import { ObjectId, type Document } from 'bson';
import { update as applyOperators } from 'mingo';
import { update as applyOperatorsWithOptions } from 'mingo/updater';
import { cloneDeep } from 'mingo/util';

import type { Collation } from './collation.js';
import { setAtPath } from './document-paths.js';
import { ErrorCode, fromQueryEngineError, MongoServerError } from './errors.js';
import { installNumericUpdates } from './numeric-updates.js';
import { engineOptions, runPipeline, type QueryOptions } from './query-engine.js';
import { applySimpleUpdate } from './simple-updates.js';
import { assertPathsViable, checkOperatorUpdate } from './update-paths.js';

installNumericUpdates();

export type UpdateSpec = Document | Document[];

/** The stages a pipeline-style update (and `$merge`'s whenMatched pipeline) may run. */
export const PIPELINE_UPDATE_STAGES: ReadonlySet<string> = new Set([
  '$addFields',
  '$set',
  '$project',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
]);

/** Checks the shape of an update (`u`) before it is applied to anything. */
export function validateUpdateSpec(spec: unknown): UpdateSpec {
  if (Array.isArray(spec)) {
    for (const stage of spec) {
      const name = stage && typeof stage === 'object' ? Object.keys(stage)[0] : undefined;
      if (!name || !PIPELINE_UPDATE_STAGES.has(name)) {
        throw new MongoServerError(
          ErrorCode.BadValue,
          `${String(name)} is not allowed to be used within an update`,
        );
      }
    }
    return spec as Document[];
  }
  if (spec === null || typeof spec !== 'object') {
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      'Update argument must be either an object or an array',
    );
  }
  const keys = Object.keys(spec);
  const operators = keys.filter((key) => key.startsWith('$'));
  if (operators.length > 0 && operators.length !== keys.length) {
    const field = keys.find((key) => !key.startsWith('$'));
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      `Unknown modifier: ${String(field)}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  }
  if (operators.length > 0) checkOperatorUpdate(spec as Document);
  return spec as Document;
}

export function isOperatorUpdate(spec: UpdateSpec): boolean {
  return !Array.isArray(spec) && Object.keys(spec).some((key) => key.startsWith('$'));
}

export interface ApplyOptions {
  arrayFilters?: Document[];
  /** The update's filter, for the positional `$` operator. */
  query?: Document;
  /** True when the update builds an upserted document ($setOnInsert applies). */
  inserting: boolean;
  /** The operation's non-simple collation (the positional filter and array filters compare by it). */
  collation?: Collation;
  /** `let` variables and statement constants (`c`) a pipeline-style update reads as `$$name`. */
  variables?: Document;
}

/** The query options an update's own pipeline or filter runs with. */
function pipelineOptions(options: ApplyOptions): QueryOptions {
  return {
    ...(options.collation ? { collation: options.collation } : {}),
    ...(options.variables ? { variables: options.variables } : {}),
  };
}

/** The new version of `current` after an update; `current` itself is never modified. */
export function applyUpdate(current: Document, spec: UpdateSpec, options: ApplyOptions): Document {
  if (Array.isArray(spec)) {
    const [result] = runPipeline([current], spec, pipelineOptions(options));
    return withId(result ?? {}, current._id);
  }
  if (!isOperatorUpdate(spec)) return replacement(current, spec);
  const { $setOnInsert, ...operators } = spec as Document & { $setOnInsert?: Document };
  if (options.inserting && $setOnInsert)
    operators.$set = { ...(operators.$set as Document | undefined), ...$setOnInsert };
  assertPathsViable(current, operators);
  const next = cloneDeep(current) as Document;
  const simple = !options.arrayFilters && applySimpleUpdate(next, operators, options.collation?.compare);
  if (!simple && Object.keys(operators).length > 0) applyWithEngine(next, operators, options);
  assertStorable(next);
  return next;
}

/** Applies update operators through mingo (paths, positional `$`, array filters, every operator). */
function applyWithEngine(next: Document, operators: Document, options: ApplyOptions): void {
  try {
    // The filter is tested again here (positional `$`, array filters): its $expr may read the command's let
    // variables, and a collation compares by it. mingo's top-level update merges its default operators over
    // given ones, so those cases take the updater's own entry point.
    if (options.collation || options.variables)
      applyOperatorsWithOptions(next, operators, options.arrayFilters, options.query, {
        cloneMode: 'deep',
        queryOptions: engineOptions(pipelineOptions(options)),
      });
    else applyOperators(next, operators, options.arrayFilters, options.query, { cloneMode: 'deep' });
  } catch (error) {
    throw fromQueryEngineError(error);
  }
}

function replacement(current: Document, spec: Document): Document {
  assertStorable(spec);
  // A replacement may repeat the _id; Collection.replace refuses one that changes it.
  return withId({ ...spec }, current._id);
}

function withId(doc: Document, id: unknown): Document {
  if (id === undefined || doc._id !== undefined) return doc;
  return { _id: id, ...doc };
}

function assertStorable(doc: Document): void {
  for (const key of Object.keys(doc)) {
    if (key.startsWith('$')) {
      throw new MongoServerError(
        ErrorCode.DollarPrefixedFieldName,
        `The dollar ($) prefixed field '${key}' in '${key}' is not valid for storage.`,
      );
    }
  }
}

/** The document an upsert starts from: the equality conditions of its filter. */
export function upsertSeed(filter: Document): Document {
  const seed: Document = {};
  addEqualities(filter, seed);
  return seed;
}

function addEqualities(filter: Document, seed: Document): void {
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(condition)) {
      for (const part of condition) addEqualities(part as Document, seed);
      continue;
    }
    if (key.startsWith('$')) continue;
    if (condition instanceof RegExp) continue;
    const isPlainObject =
      condition !== null &&
      typeof condition === 'object' &&
      !Array.isArray(condition) &&
      !(condition instanceof Date) &&
      !('_bsontype' in condition);
    if (isPlainObject) {
      const operators = Object.keys(condition as Document);
      if (operators.some((operator) => operator.startsWith('$'))) {
        if ('$eq' in (condition as Document)) setAtPath(seed, key, (condition as Document).$eq);
        continue;
      }
    }
    setAtPath(seed, key, condition);
  }
}

/**
 * An upsert may give the new document its `_id` through `$set`/`$setOnInsert` when the filter does not:
 * it goes into the seed (the engine refuses every other change of `_id`).
 */
function withUpsertedId(seed: Document, spec: UpdateSpec): UpdateSpec {
  if (Array.isArray(spec) || seed._id !== undefined) return spec;
  let result = spec;
  for (const operator of ['$set', '$setOnInsert']) {
    const fields = result[operator] as Document | undefined;
    if (!fields || fields._id === undefined) continue;
    const { _id: id, ...rest } = fields;
    seed._id = id;
    result = { ...result, [operator]: rest };
  }
  return result;
}

/** Builds the document an upsert inserts. */
export function buildUpsert(
  filter: Document,
  spec: UpdateSpec,
  arrayFilters: Document[] | undefined,
  variables?: Document,
): Document {
  const seed = upsertSeed(filter);
  let doc: Document;
  if (Array.isArray(spec) || isOperatorUpdate(spec)) {
    doc = applyUpdate(seed, withUpsertedId(seed, spec), {
      inserting: true,
      ...(arrayFilters ? { arrayFilters } : {}),
      ...(variables ? { variables } : {}),
    });
  } else {
    // A replacement upsert keeps only the filter's _id.
    assertStorable(spec);
    doc = seed._id !== undefined && spec._id === undefined ? { _id: seed._id, ...spec } : { ...spec };
  }
  return doc._id === undefined ? { _id: new ObjectId(), ...doc } : doc;
}
