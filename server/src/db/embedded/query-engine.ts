import type { Document } from 'bson';
import { aggregate, find, ProcessingMode, Query } from 'mingo';
import type { Options } from 'mingo/types';
import { compare } from 'mingo/util';
import { ErrorCode, fromQueryEngineError, MongoServerError } from './errors.js';

/** Resolves a collection name of the current database to its documents, for $lookup and friends. */
export type CollectionResolver = (name: string) => Document[];

export interface QueryOptions {
  resolve?: CollectionResolver;
  variables?: Document;
}

function engineOptions(options: QueryOptions, processingMode = ProcessingMode.CLONE_OFF): Partial<Options> {
  return {
    idKey: '_id',
    useStrictMode: true,
    // Server-side JavaScript ($where, $function, $accumulator) is never run.
    scriptEnabled: false,
    processingMode,
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
    throw new MongoServerError(ErrorCode.TypeMismatch, `BSON field '${field}' is the wrong type, expected type 'object'`);
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
export function runFind(docs: Document[], filter: Document | undefined, options: FindOptions = {}): Document[] {
  return withMongoErrors(() => {
    const projection = options.projection && Object.keys(options.projection).length > 0 ? options.projection : undefined;
    let cursor = find(docs, filter ?? {}, projection, engineOptions(options));
    if (options.sort && Object.keys(options.sort).length > 0) cursor = cursor.sort(options.sort as Record<string, 1 | -1>);
    if (options.skip) cursor = cursor.skip(options.skip);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.all() as Document[];
  });
}

/** Runs an aggregation pipeline over copies of the documents (stages never touch stored data). */
export function runPipeline(docs: Document[], pipeline: Document[], options: QueryOptions = {}): Document[] {
  return withMongoErrors(() => aggregate(docs, pipeline, engineOptions(options, ProcessingMode.CLONE_INPUT)) as Document[]);
}

/** Projects one document (findAndModify `fields`). */
export function projectOne(doc: Document, projection: Document | undefined): Document {
  if (!projection || Object.keys(projection).length === 0) return doc;
  return runFind([doc], {}, { projection })[0] ?? doc;
}

/** MongoDB's cross-type ordering of two values. */
export function compareValues(a: unknown, b: unknown): number {
  return compare(a as never, b as never);
}
