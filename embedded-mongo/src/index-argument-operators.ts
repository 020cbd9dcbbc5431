import { evalExpr } from 'mingo/core';
import * as expressionOperators from 'mingo/operators/expression';

import { numericKind, toJsNumber } from './bson-numbers.js';
import type { ExpressionOperator } from './operator-types.js';

/**
 * The query engine's operators that take positions, counts or bounds ($arrayElemAt, $slice, $range,
 * $substr*, $indexOf*). mongod takes any whole number there; mingo only a JS number, so an index computed
 * as a double (`{$ceil: …}` of a double is the double 3.0, held as a bson Double) was refused. These
 * wrappers evaluate the arguments and hand the numbers over as plain JS numbers; the rest is mingo's.
 */

const engineExpressions = expressionOperators as unknown as Record<string, ExpressionOperator>;

function plainNumber(value: unknown): unknown {
  return typeof value === 'object' && numericKind(value) ? toJsNumber(value) : value;
}

function withPlainNumberArguments(name: string): ExpressionOperator {
  const original = engineExpressions[name] as ExpressionOperator;
  return (obj, expr, options) => {
    if (!Array.isArray(expr)) return original(obj, expr, options);
    const evaluated = evalExpr(obj as never, expr as never, options) as unknown[];
    return original(
      obj,
      evaluated.map((value) => ({ $literal: plainNumber(value) })),
      options,
    );
  };
}

export const indexArgumentOperators: Record<string, ExpressionOperator> = Object.fromEntries(
  [
    '$arrayElemAt',
    '$slice',
    '$range',
    '$substr',
    '$substrBytes',
    '$substrCP',
    '$indexOfArray',
    '$indexOfBytes',
    '$indexOfCP',
  ].map((name) => [name, withPlainNumberArguments(name)]),
);
