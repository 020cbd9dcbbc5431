import type { Document } from 'bson';

import { ErrorCode, MongoServerError } from '../errors.js';
import { runPipeline, type QueryOptions } from '../query-engine.js';
import { resolveView } from '../views.js';
import type { CommandContext } from './context.js';

/**
 * Reads through views: a view's documents are its source collection's run through every pipeline of
 * its chain, then through the stages the command adds (as mongod rewrites find, count and distinct on a
 * view into an aggregation).
 */
export function readView(
  context: CommandContext,
  name: string,
  stages: Document[],
  options: QueryOptions,
): Document[] | undefined {
  const view = context.catalog.view(context.db, name);
  if (!view) return undefined;
  const { source, pipeline } = resolveView(view, (other) => context.catalog.view(context.db, other));
  const docs = context.catalog.collection(context.db, source)?.documents() ?? [];
  return runPipeline(docs, [...pipeline, ...stages], options, { copyInput: true });
}

/** The documents a `$lookup` (or other stage naming a collection) reads: a view's or a collection's. */
export function namedSourceDocuments(
  context: CommandContext,
  name: string,
  options: QueryOptions,
): Document[] {
  return (
    readView(context, name, [], options) ?? context.catalog.collection(context.db, name)?.documents() ?? []
  );
}

export function viewWriteError(context: CommandContext, name: string): MongoServerError {
  return new MongoServerError(
    ErrorCode.CommandNotSupportedOnView,
    `Namespace ${context.db}.${name} is a view, not a collection`,
  );
}

/** Refuses any change through a view, with mongod's error, before the command does anything. */
export function assertNotView(context: CommandContext, name: string): void {
  if (context.catalog.view(context.db, name)) throw viewWriteError(context, name);
}

/**
 * The write errors of a write command addressed to a view: every statement fails (an ordered command
 * stops at the first), or undefined when `name` is no view.
 */
export function viewWriteErrors(
  context: CommandContext,
  name: string,
  statements: number,
  ordered: boolean,
): Document[] | undefined {
  if (!context.catalog.view(context.db, name)) return undefined;
  const failing = ordered ? Math.min(statements, 1) : statements;
  return Array.from({ length: failing }, (_, index) => viewWriteError(context, name).toWriteError(index));
}

/** `$out` and `$merge` may not write into a view (mongod refuses it with 166 before running the pipeline). */
export function assertOutputNotView(context: CommandContext, target: { db: string; coll: string }): void {
  if (context.catalog.view(target.db, target.coll))
    throw new MongoServerError(
      ErrorCode.CommandNotSupportedOnView,
      `Namespace ${target.db}.${target.coll} is a view, not a collection`,
    );
}
