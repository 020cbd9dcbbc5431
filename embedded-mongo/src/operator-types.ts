import type { Options } from 'mingo/types';

/**
 * The shapes of the query engine's (mingo's) operator functions, for the operators this server registers
 * in place of or beside mingo's own.
 */

/** An expression operator: evaluated against one document. */
export type ExpressionOperator = (obj: unknown, expr: unknown, options: Options) => unknown;

/** An accumulator: the documents of a group (or, used as an expression, the values themselves). */
export type AccumulatorOperator = (
  collection: unknown[],
  expr: unknown,
  options: Options & { options?: Options },
) => unknown;

/** A query operator: compiled once for a path and an operand, then tested against each document. */
export type QueryOperator = (selector: string, value: unknown, options: Options) => (obj: unknown) => boolean;

/** What a window function is told about its output field within `$setWindowFields`. */
export interface WindowOperatorInput {
  /** The whole `$setWindowFields` stage (its `sortBy`, `partitionBy`, `output`). */
  parentExpr: unknown;
  /** The function's own argument (`{input, unit}` for `$derivative`). */
  inputExpr: unknown;
  /** The current document's position in its partition, from 1. */
  documentNumber: number;
  field: string;
}

/** A window function: the current document, the documents of its window, and its spec. */
export type WindowOperator = (
  obj: unknown,
  collection: unknown[],
  expr: WindowOperatorInput,
  options: Options,
) => unknown;
