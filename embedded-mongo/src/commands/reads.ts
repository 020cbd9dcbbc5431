import type { Document } from 'bson';

import { toJsNumber } from '../bson-numbers.js';
import { CollationKeys, operationCollation, type Collation } from '../collation.js';
import { valuesAtPath } from '../document-paths.js';
import { ErrorCode, MongoServerError } from '../errors.js';
import { nativePredicate, NeedsEngine } from '../fast-stages.js';
import { compareValues, runFind, runPipeline, type QueryOptions } from '../query-engine.js';
import { isIndexableScalar, valueKey } from '../value-keys.js';
import { collectionName, documentArray, optionalDocument, optionalNumber } from './arguments.js';
import type { CommandContext, CommandHandler } from './context.js';
import { checkDatabaseAggregate } from './database-aggregate.js';
import { evaluateLet } from './let-variables.js';
import { pipelineOutput } from './pipeline-output.js';
import { assertOutputNotView, namedSourceDocuments, readView } from './views.js';

/** The collation the command runs with: its `collation` field, else the collection's default. */
function commandCollation(context: CommandContext, name: string, command: Document): Collation | undefined {
  return operationCollation(
    command.collation,
    context.catalog.collection(context.db, name)?.defaultCollation,
  );
}

function queryOptions(context: CommandContext, command: Document, collation?: Collation): QueryOptions {
  const variables = evaluateLet(optionalDocument(command, 'let'));
  const options: QueryOptions = {
    resolve: (name) => namedSourceDocuments(context, name, options),
    ...(variables ? { variables } : {}),
    ...(collation ? { collation } : {}),
  };
  return options;
}

/** find's filter, sort, skip, limit and projection as the stages mongod runs after a view's pipeline. */
function findStages(
  filter: Document | undefined,
  sort: Document | undefined,
  skip: number | undefined,
  limit: number | undefined,
  projection: Document | undefined,
): Document[] {
  const stages: Document[] = [];
  if (filter && Object.keys(filter).length > 0) stages.push({ $match: filter });
  if (sort && Object.keys(sort).length > 0) stages.push({ $sort: sort });
  if (skip) stages.push({ $skip: skip });
  if (limit) stages.push({ $limit: Math.abs(limit) });
  if (projection && Object.keys(projection).length > 0) stages.push({ $project: projection });
  return stages;
}

function matching(
  context: CommandContext,
  name: string,
  filter: Document | undefined,
  collation?: Collation,
): Document[] {
  const collection = context.catalog.collection(context.db, name);
  if (!collection) return [];
  return filter && Object.keys(filter).length > 0
    ? collection.candidates(filter, collation)
    : collection.documents();
}

/**
 * A sorted find with a small limit, answered by walking an index in the sort's order and stopping at the
 * limit, as mongod does with an index on the filter's equalities and the sort's fields (the collection
 * decides whether one fits). Only for a filter the native test handles.
 */
function firstInSortOrder(
  context: CommandContext,
  name: string,
  filter: Document | undefined,
  sort: Document | undefined,
  count: number,
): Document[] | undefined {
  if (!sort || Object.keys(sort).length === 0 || count === 0 || count > 1000) return undefined;
  const test = nativePredicate(filter);
  const collection = context.catalog.collection(context.db, name);
  if (!test || !collection) return undefined;
  try {
    return collection.firstInIndexOrder(filter, sort, count, test);
  } catch (error) {
    if (error instanceof NeedsEngine) return undefined;
    throw error;
  }
}

/** True for `{_id: <scalar>}`: the `_id` index answers it exactly, without the query engine. */
function isPlainIdLookup(filter: Document | undefined): filter is Document {
  if (!filter) return false;
  const keys = Object.keys(filter);
  return keys.length === 1 && keys[0] === '_id' && isIndexableScalar(filter._id);
}

/** Projections that only drop top-level fields, applied without the query engine. */
function dropFields(doc: Document, projection: Document): Document | undefined {
  const dropped = Object.entries(projection);
  if (
    dropped.some(
      ([field, value]) => field.includes('.') || field.startsWith('$') || (value !== 0 && value !== false),
    )
  )
    return undefined;
  const omitted = new Set(dropped.map(([field]) => field));
  return Object.fromEntries(Object.entries(doc).filter(([field]) => !omitted.has(field)));
}

function findById(
  context: CommandContext,
  name: string,
  filter: Document,
  projection: Document | undefined,
): Document[] | undefined {
  const doc = context.catalog.collection(context.db, name)?.findById(filter._id);
  if (!doc) return [];
  if (!projection || Object.keys(projection).length === 0) return [doc];
  const projected = dropFields(doc, projection);
  return projected ? [projected] : undefined;
}

function find(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const collation = commandCollation(context, name, command);
  if (command.tailable === true) {
    throw new MongoServerError(
      ErrorCode.BadValue,
      'error processing query: tailable cursor requested on non capped collection',
    );
  }
  const options = queryOptions(context, command, collation);
  const filter = optionalDocument(command, 'filter');
  const sort = optionalDocument(command, 'sort');
  const projection = optionalDocument(command, 'projection');
  const skip = optionalNumber(command, 'skip');
  const limit = optionalNumber(command, 'limit');
  const batchSize = optionalNumber(command, 'batchSize');
  // Only a view pays for building its stages; collections keep their fast paths below.
  const throughView = context.catalog.view(context.db, name)
    ? readView(context, name, findStages(filter, sort, skip, limit, projection), options)
    : undefined;
  if (throughView) {
    return {
      cursor: context.cursors.open(
        `${context.db}.${name}`,
        throughView,
        batchSize,
        command.singleBatch === true,
      ),
      ok: 1,
    };
  }
  // Under a collation only a non-string _id is looked up exactly; index walks order strings in binary.
  const byId =
    isPlainIdLookup(filter) && !skip && !(collation && typeof filter._id === 'string')
      ? findById(context, name, filter, projection)
      : undefined;
  const inOrder =
    byId || collation || !limit || limit < 0
      ? undefined
      : firstInSortOrder(context, name, filter, sort, (skip ?? 0) + limit);
  const docs =
    byId ??
    (inOrder && runFind(inOrder.slice(skip ?? 0), undefined, projection ? { projection } : {})) ??
    runFind(matching(context, name, filter, collation), filter, {
      ...options,
      ...(sort ? { sort } : {}),
      ...(projection ? { projection } : {}),
      ...(skip ? { skip } : {}),
      ...(limit ? { limit } : {}),
    });
  return {
    cursor: context.cursors.open(`${context.db}.${name}`, docs, batchSize, command.singleBatch === true),
    ok: 1,
  };
}

function getMore(context: CommandContext, command: Document): Document {
  const name = command.collection;
  if (typeof name !== 'string')
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      "BSON field 'getMore.collection' is missing or not a string",
    );
  // No cursor of the embedded server awaits data (no tailable cursors), as mongod requires for maxTimeMS.
  if (command.maxTimeMS !== undefined)
    throw new MongoServerError(
      ErrorCode.BadValue,
      'cannot set maxTimeMS on getMore command for a non-awaitData cursor',
    );
  const batchSize = optionalNumber(command, 'batchSize');
  return {
    cursor: context.cursors.getMore(command.getMore, `${context.db}.${name}`, batchSize || undefined),
    ok: 1,
  };
}

function killCursors(context: CommandContext, command: Document): Document {
  const ids = Array.isArray(command.cursors) ? command.cursors : [];
  const { killed, notFound } = context.cursors.kill(ids);
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function count(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const collation = commandCollation(context, name, command);
  const filter = optionalDocument(command, 'query');
  const skip = optionalNumber(command, 'skip');
  // A negative limit counts as its absolute value, as in mongod.
  const limit = command.limit === undefined ? undefined : Math.abs(Math.trunc(toJsNumber(command.limit)));
  const throughView = readView(
    context,
    name,
    findStages(filter, undefined, skip, limit, undefined),
    queryOptions(context, command, collation),
  );
  if (throughView) return { n: throughView.length, ok: 1 };
  const docs = runFind(matching(context, name, filter, collation), filter, {
    ...queryOptions(context, command, collation),
    ...(skip ? { skip } : {}),
    ...(limit ? { limit } : {}),
  });
  return { n: docs.length, ok: 1 };
}

function distinct(context: CommandContext, command: Document): Document {
  const name = collectionName(command);
  const collation = commandCollation(context, name, command);
  const key = command.key;
  if (typeof key !== 'string')
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      "BSON field 'distinct.key' is missing or not a string",
    );
  const filter = optionalDocument(command, 'query');
  const docs =
    readView(
      context,
      name,
      findStages(filter, undefined, undefined, undefined, undefined),
      queryOptions(context, command, collation),
    ) ??
    runFind(matching(context, name, filter, collation), filter, queryOptions(context, command, collation));
  // Under a collation, values it finds equal are one value (the first met).
  const keys = collation ? new CollationKeys(collation) : undefined;
  const keyOf = keys ? (value: unknown) => keys.keyOf(value) : valueKey;
  const values = new Map<string, unknown>();
  for (const doc of docs) {
    for (const value of valuesAtPath(doc, key)) {
      if (value === undefined) continue;
      const valueId = keyOf(value);
      if (!values.has(valueId)) values.set(valueId, value);
    }
  }
  return { values: [...values.values()].sort(collation?.compare ?? compareValues), ok: 1 };
}

function stageName(stage: Document): string {
  return Object.keys(stage)[0] ?? '';
}

function aggregate(context: CommandContext, command: Document): Document {
  const target = command.aggregate;
  const pipeline = documentArray(command, 'pipeline');
  if (command.explain === true)
    throw new MongoServerError(
      ErrorCode.CommandNotSupported,
      'explain is not supported by the embedded server',
    );
  const cursorOptions = optionalDocument(command, 'cursor');
  if (!cursorOptions) {
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  pipeline.forEach((stage) => {
    const name = stageName(stage);
    if (name === '$changeStream') {
      throw new MongoServerError(
        ErrorCode.Location40573,
        'The $changeStream stage is only supported on replica sets',
      );
    }
  });
  const output = pipelineOutput(context, pipeline);
  let source: Document[];
  let namespace: string;
  if (target === 1) {
    checkDatabaseAggregate(context.db, pipeline);
    source = [];
    namespace = `${context.db}.$cmd.aggregate`;
  } else {
    const name = collectionName(command);
    source = context.catalog.collection(context.db, name)?.documents() ?? [];
    namespace = `${context.db}.${name}`;
  }
  let stages = output === undefined ? pipeline : pipeline.slice(0, -1);
  if (output !== undefined) assertOutputNotView(context, output.target);
  const collection =
    target === 1 ? undefined : context.catalog.collection(context.db, collectionName(command));
  const collation = operationCollation(command.collation, collection?.defaultCollation);
  const options = queryOptions(context, command, collation);
  // A view's documents are its pipeline's results; the command's stages then run over them.
  const throughView = target === 1 ? undefined : readView(context, collectionName(command), [], options);
  if (throughView) source = throughView;
  const leading = stages[0];
  if (collection && leading && stageName(leading) === '$match') {
    // A leading $match is answered through the indexes, as MongoDB does, before the rest runs.
    const match = leading.$match as Document;
    source = runFind(collection.candidates(match, collation), match, options);
    stages = stages.slice(1);
  }
  // Documents written by $out and $merge must not be the stored ones themselves.
  const results =
    output === undefined
      ? runPipeline(source, stages, options)
      : runPipeline(source, stages, options, { copyInput: true });
  if (output !== undefined) {
    output.write(results, options, command.bypassDocumentValidation !== true);
    return { cursor: context.cursors.open(namespace, [], 0, true), ok: 1 };
  }
  return {
    cursor: context.cursors.open(namespace, results, cursorOptions.batchSize as number | undefined),
    ok: 1,
  };
}

export const readCommands: Record<string, CommandHandler> = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
  aggregate,
};
