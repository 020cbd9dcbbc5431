import type { Document } from 'bson';

import { ErrorCode, MongoServerError } from './errors.js';

/** A read-only view: the documents of `viewOn` (a collection or another view) through `pipeline`. */
export interface ViewDefinition {
  db: string;
  name: string;
  viewOn: string;
  pipeline: Document[];
}

/** mongod's limit on views built on views. */
export const MAX_VIEW_DEPTH = 20;

/** Stages that write, which a view's pipeline may not hold. */
const WRITING_STAGES = new Set(['$out', '$merge']);

export function viewOptions(view: ViewDefinition): Document {
  return { viewOn: view.viewOn, pipeline: view.pipeline };
}

/** Refuses a view pipeline mongod would refuse: not an array of stages, or one that writes. */
export function checkViewPipeline(pipeline: unknown, command: string): Document[] {
  if (!Array.isArray(pipeline))
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `BSON field '${command}.pipeline' is the wrong type, expected type 'array'`,
    );
  for (const stage of pipeline) {
    if (stage === null || typeof stage !== 'object' || Array.isArray(stage))
      throw new MongoServerError(
        ErrorCode.TypeMismatch,
        "Each element of the 'pipeline' array must be an object",
      );
    const name = Object.keys(stage as Document)[0] ?? '';
    if (WRITING_STAGES.has(name))
      throw new MongoServerError(
        ErrorCode.OptionNotSupportedOnView,
        `${name} cannot be used in a view definition`,
      );
  }
  return pipeline as Document[];
}

/**
 * Refuses a view whose chain of `viewOn` comes back to itself or is too deep, with mongod's errors.
 * `lookup` answers the views of the database as they would be after the change.
 */
export function checkViewGraph(
  view: ViewDefinition,
  lookup: (name: string) => ViewDefinition | undefined,
): void {
  const traversal = [view.name];
  let current: ViewDefinition | undefined = view;
  while (current) {
    const next = current.viewOn;
    traversal.push(next);
    if (next === view.name) {
      // mongod names the view first, then the whole cycle from the far end back to it.
      const names = [...traversal].reverse().map((name) => `${view.db}.${name}`);
      throw new MongoServerError(
        ErrorCode.GraphContainsCycle,
        `View cycle detected: ${names[0]} => ${names.join(' => ')}`,
      );
    }
    if (traversal.length - 1 > MAX_VIEW_DEPTH)
      throw new MongoServerError(
        ErrorCode.ViewDepthLimitExceeded,
        `View depth too deep or view cycle detected. Maximum depth is ${MAX_VIEW_DEPTH}`,
      );
    current = lookup(next);
  }
}

/** The collection a view finally reads and the whole pipeline to run over it, innermost view first. */
export function resolveView(
  view: ViewDefinition,
  lookup: (name: string) => ViewDefinition | undefined,
): { source: string; pipeline: Document[] } {
  const chain: ViewDefinition[] = [view];
  let source = view.viewOn;
  for (let next = lookup(source); next; next = lookup(source)) {
    chain.unshift(next);
    source = next.viewOn;
    if (chain.length > MAX_VIEW_DEPTH)
      throw new MongoServerError(
        ErrorCode.ViewDepthLimitExceeded,
        `View depth too deep or view cycle detected. Maximum depth is ${MAX_VIEW_DEPTH}`,
      );
  }
  return { source, pipeline: chain.flatMap((link) => link.pipeline) };
}
