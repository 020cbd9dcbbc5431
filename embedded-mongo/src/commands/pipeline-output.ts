import type { Document } from 'bson';

import { typeNameOf } from '../bson-types.js';
import { Catalog, validateDatabaseName } from '../catalog.js';
import { ErrorCode, MongoServerError } from '../errors.js';
import type { QueryOptions } from '../query-engine.js';
import type { CommandContext } from './context.js';
import { MergeErrorCode, parseMergeStage } from './merge-spec.js';
import { writeMergeOutput } from './merge-stage.js';

/** The stage that writes a pipeline's results (`$out` or `$merge`), parsed before anything runs. */
export interface PipelineOutput {
  /** The namespace the stage writes into. */
  target: { db: string; coll: string };
  /** `validate` is false when the aggregate bypasses the target's document validation. */
  write(results: Document[], options: QueryOptions, validate: boolean): void;
}

const OUTPUT_STAGES = new Set(['$out', '$merge']);
const INTERNAL_DATABASES = new Set(['admin', 'local', 'config']);

/** Where each stage that runs a sub-pipeline keeps it, and mongod's refusal of a write stage in it. */
const NESTED_PIPELINES: Record<
  string,
  { pipelines: (spec: unknown) => unknown[]; code: number; place: string }
> = {
  $facet: {
    pipelines: (spec) => (isObject(spec) ? Object.values(spec) : []),
    code: 40600,
    place: 'is not allowed to be used within a $facet stage',
  },
  $lookup: {
    pipelines: (spec) => (isObject(spec) ? [spec.pipeline] : []),
    code: 51047,
    place: "is not allowed within a $lookup's sub-pipeline",
  },
  $unionWith: {
    pipelines: (spec) => (isObject(spec) ? [spec.pipeline] : []),
    code: 31441,
    place: "is not allowed within a $unionWith's sub-pipeline",
  },
};

function isObject(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stageName(stage: Document): string {
  return Object.keys(stage)[0] ?? '';
}

/** mongod refuses `$out` and `$merge` inside `$facet`, `$lookup` and `$unionWith`, at any depth. */
function assertNoNestedOutput(stage: Document): void {
  const name = stageName(stage);
  const nested = NESTED_PIPELINES[name];
  if (!nested) return;
  for (const pipeline of nested.pipelines(stage[name])) {
    if (!Array.isArray(pipeline)) continue;
    for (const inner of pipeline as unknown[]) {
      if (!isObject(inner)) continue;
      const innerName = stageName(inner);
      if (OUTPUT_STAGES.has(innerName))
        throw new MongoServerError(nested.code, `${innerName} ${nested.place}`);
      assertNoNestedOutput(inner);
    }
  }
}

/** `$out`'s target namespace, checked as mongod 7.0 checks it. */
function assertOutTarget(db: string, coll: string): void {
  try {
    validateDatabaseName(db);
  } catch {
    throw new MongoServerError(ErrorCode.InvalidNamespace, `Invalid $out target namespace, ${db}.${coll}`);
  }
  if (coll.length === 0)
    throw new MongoServerError(ErrorCode.InvalidNamespace, `Invalid $out target namespace, ${db}.${coll}`);
  if (coll.startsWith('system.'))
    throw new MongoServerError(17385, `Can't $out to special collection: ${coll}`);
  if (INTERNAL_DATABASES.has(db)) throw new MongoServerError(31321, `Can't $out to internal database: ${db}`);
}

/** `$out`'s target: a collection name of the aggregate's database, or `{db, coll}` (both required). */
function outTarget(context: CommandContext, output: unknown): { db: string; coll: string } {
  if (typeof output === 'string') {
    assertOutTarget(context.db, output);
    return { db: context.db, coll: output };
  }
  if (!isObject(output))
    throw new MongoServerError(
      16990,
      `$out only supports a string or object argument, but found ${typeNameOf(output)}`,
    );
  for (const [field, value] of Object.entries(output)) {
    if (field === 'timeseries')
      throw new MongoServerError(
        ErrorCode.CommandNotSupported,
        '$out to a time-series collection is not supported by the embedded server',
      );
    if (field !== 'db' && field !== 'coll')
      throw new MongoServerError(
        MergeErrorCode.Location40415,
        `BSON field '$out.${field}' is an unknown field.`,
      );
    if (typeof value !== 'string')
      throw new MongoServerError(
        ErrorCode.TypeMismatch,
        `BSON field '$out.${field}' is the wrong type '${typeNameOf(value)}', expected type 'string'`,
      );
  }
  for (const field of ['coll', 'db'])
    if (output[field] === undefined)
      throw new MongoServerError(
        MergeErrorCode.Location40414,
        `BSON field '$out.${field}' is missing but a required field`,
      );
  const target = { db: output.db as string, coll: output.coll as string };
  assertOutTarget(target.db, target.coll);
  return target;
}

/**
 * The pipeline's output stage, parsed with mongod's checks: every `$out`/`$merge` is parsed first,
 * then it must be the last stage (40601) and none may stand inside a sub-pipeline.
 */
export function pipelineOutput(context: CommandContext, pipeline: Document[]): PipelineOutput | undefined {
  const outputs = pipeline.map((stage): PipelineOutput | undefined => {
    const name = stageName(stage);
    if (name === '$merge') {
      const spec = parseMergeStage(context, stage.$merge);
      return {
        target: { db: spec.db, coll: spec.coll },
        write: (results, options, validate) =>
          writeMergeOutput(context.catalog, spec, results, options, validate),
      };
    }
    if (name === '$out') {
      const target = outTarget(context, stage.$out);
      return {
        target,
        write: (results, _options, validate) => writePipelineOutput(context, target, results, validate),
      };
    }
    return undefined;
  });
  pipeline.forEach((stage, position) => {
    const name = stageName(stage);
    if (OUTPUT_STAGES.has(name) && position !== pipeline.length - 1)
      throw new MongoServerError(
        ErrorCode.Location40601,
        `${name} can only be the final stage in the pipeline`,
      );
    assertNoNestedOutput(stage);
  });
  return outputs[outputs.length - 1];
}

/**
 * `$out`: replaces the target collection's documents with the results, keeping its indexes and options.
 * The results are first loaded into a scratch catalog with the same indexes and validator, so a unique-index
 * violation or a document the validator refuses leaves the target as it was.
 */
function writePipelineOutput(
  context: CommandContext,
  target: { db: string; coll: string },
  results: Document[],
  validate: boolean,
): void {
  const existing = context.catalog.collection(target.db, target.coll);
  const options = existing?.options ?? {};
  const indexSpecs = existing?.indexSpecs().filter((spec) => spec.name !== '_id_') ?? [];

  const scratch = new Catalog().createCollection(target.db, target.coll, options);
  for (const spec of indexSpecs) scratch.createIndex(spec);
  const documents = results.map((doc) => scratch.insert(doc, validate));

  context.catalog.dropCollection(target.db, target.coll);
  const collection = context.catalog.createCollection(target.db, target.coll, options);
  for (const spec of indexSpecs) collection.createIndex(spec);
  // Validated again only for a `warn` validator to report through the real catalog; errors were raised above.
  for (const doc of documents) collection.insert(doc, validate);
}
