import { Long } from 'bson';
import { evalExpr } from 'mingo/core';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import type { Options } from 'mingo/types';

import { INT32_MAX, INT32_MIN, numericKind, toJsNumber, toStoredDouble } from './bson-numbers.js';
import { ErrorCode, MongoServerError } from './errors.js';
import type { AccumulatorOperator, ExpressionOperator } from './operator-types.js';

/**
 * The query engine's operators that compute a double from plain JS numbers ($sqrt, $ln, the trigonometry,
 * $stdDevPop, $median...). mingo skips a value it does not see as a JS number, so a stored long or an
 * integral double (a bson object here) would be left out silently: these wrappers hand them the values as
 * plain numbers and store the answer as the double mongod gives.
 */

const engineExpressions = expressionOperators as unknown as Record<string, ExpressionOperator>;
const engineAccumulators = accumulatorOperators as unknown as Record<string, AccumulatorOperator>;

/** A number of any BSON type as a JS number; decimals are refused rather than rounded into a double. */
function plain(name: string, value: unknown): unknown {
  const kind = numericKind(value);
  if (kind === 'decimal')
    throw new MongoServerError(
      ErrorCode.CommandNotSupported,
      `${name} of a decimal value is not supported by the embedded server`,
    );
  return kind && typeof value === 'object' ? toJsNumber(value) : value;
}

/** A result as mongod stores it: numbers are doubles (arrays of them too, as $percentile answers). */
function asDoubles(result: unknown): unknown {
  if (typeof result === 'number') return toStoredDouble(result);
  if (Array.isArray(result)) return result.map(asDoubles);
  return result;
}

/** Runs mingo's operator on evaluated arguments, given to it as literal plain numbers. */
function runOnPlainNumbers(
  name: string,
  obj: unknown,
  expr: unknown,
  evaluated: unknown,
  options: Options,
): unknown {
  const original = engineExpressions[name] as ExpressionOperator;
  const literal = Array.isArray(expr)
    ? (evaluated as unknown[]).map((value) => ({ $literal: plain(name, value) }))
    : { $literal: plain(name, evaluated) };
  return asDoubles(original(obj, literal, options));
}

function onPlainNumbers(name: string): ExpressionOperator {
  return (obj, expr, options) =>
    runOnPlainNumbers(name, obj, expr, evalExpr(obj as never, expr as never, options), options);
}

/** `$pow` keeps integers when mongod does: int or long operands with an exact whole result. */
const $pow: ExpressionOperator = (obj, expr, options) => {
  const evaluated = evalExpr(obj as never, expr as never, options) as unknown;
  const result = runOnPlainNumbers('$pow', obj, expr, evaluated, options);
  const kinds = (Array.isArray(evaluated) ? evaluated : [evaluated]).map(numericKind);
  const integral = kinds.every((kind) => kind === 'int' || kind === 'long');
  const value = typeof result === 'number' ? result : toJsNumber(result);
  if (!integral || !Number.isSafeInteger(value)) return result;
  if (kinds.includes('long') || value < INT32_MIN || value > INT32_MAX) return Long.fromNumber(value);
  return value;
};

/**
 * Each document's value, as a plain number, fed to mingo's accumulator as a field of its own. `$median`
 * and `$percentile` take `{input, ...}`: their input is read that way, the rest of the spec kept.
 */
function accumulatedOnPlainNumbers(name: string): AccumulatorOperator {
  const original = engineAccumulators[name] as AccumulatorOperator;
  return (collection, expr, options) => {
    const plainOptions = options.options ?? options;
    const spec =
      expr !== null && typeof expr === 'object' && !Array.isArray(expr) && 'input' in expr
        ? (expr as Record<string, unknown>)
        : undefined;
    const input = spec ? spec.input : expr;
    // Used as an expression ({$stdDevPop: '$array'}), the engine passes the values and no expression.
    const values =
      input === null
        ? collection
        : collection.map((doc) => evalExpr(doc as never, input as never, plainOptions as never) as unknown);
    const rows = values.map((value) => ({ value: plain(name, value) }));
    return asDoubles(original(rows, spec ? { ...spec, input: '$value' } : '$value', options));
  };
}

const DOUBLE_EXPRESSIONS = [
  '$sqrt',
  '$exp',
  '$ln',
  '$log',
  '$log10',
  '$sin',
  '$cos',
  '$tan',
  '$asin',
  '$acos',
  '$atan',
  '$atan2',
  '$sinh',
  '$cosh',
  '$tanh',
  '$asinh',
  '$acosh',
  '$atanh',
  '$degreesToRadians',
  '$radiansToDegrees',
];

export const doubleResultExpressionOperators: Record<string, ExpressionOperator> = {
  ...Object.fromEntries(DOUBLE_EXPRESSIONS.map((name) => [name, onPlainNumbers(name)])),
  $pow,
};

export const doubleResultAccumulators: Record<string, AccumulatorOperator> = Object.fromEntries(
  ['$stdDevPop', '$stdDevSamp', '$median', '$percentile'].map((name) => [
    name,
    accumulatedOnPlainNumbers(name),
  ]),
);
