import { evalExpr } from 'mingo/core';
import { unique } from 'mingo/util';

import type { AccumulatorOperator } from './operator-types.js';

/**
 * `$push` and `$addToSet` as mongod runs them: a missing value is left out (the query engine would add
 * null). Each document is evaluated as its own root.
 */
const $push: AccumulatorOperator = (collection, expr, options) => {
  const plain = options.options ?? options;
  const values: unknown[] = [];
  for (const doc of collection) {
    const value = evalExpr(doc as never, expr as never, plain as never);
    if (value !== undefined) values.push(value);
  }
  return values;
};

const $addToSet: AccumulatorOperator = (collection, expr, options) =>
  unique($push(collection, expr, options) as never[]);

export const mongodAccumulators: Record<string, AccumulatorOperator> = { $push, $addToSet };
