import { Double, Long, type Document } from 'bson';
import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';

import { numericKind, toBigInt, toJsNumber, toStoredDouble, toStoredLong } from './bson-numbers.js';
import { bsonTypeName, typeNameOf } from './bson-types.js';
import {
  decimalAdd,
  decimalDivide,
  decimalMultiply,
  decimalNegate,
  decimalOf,
  encode,
  type DecimalValue,
} from './decimal128-arithmetic.js';
import { ErrorCode, MongoServerError } from './errors.js';
import { difference, isZero, productOf, quotient, sumOf } from './numeric-arithmetic.js';
import type { AccumulatorOperator, ExpressionOperator, WindowOperator } from './operator-types.js';
import { nonFiniteKind, nonFiniteValue, WindowMean, WindowSum } from './window-sums.js';

/**
 * The `$setWindowFields` functions that compute with numbers ($derivative, $integral, $expMovingAvg,
 * $covariancePop, $covarianceSamp), replacing mingo's, which only see JS numbers and so skipped or
 * mangled longs, integral doubles and decimals. Each follows mongod 7.0's window function
 * (src/mongo/db/pipeline/window_function) with the server's typed arithmetic: results are doubles, or
 * decimals when a decimal takes part.
 */

const isNil = (value: unknown): boolean => value === null || value === undefined;

/** The milliseconds of each `unit` $derivative and $integral take. */
const UNIT_MILLIS: Record<string, number> = {
  week: 604_800_000,
  day: 86_400_000,
  hour: 3_600_000,
  minute: 60_000,
  second: 1000,
  millisecond: 1,
};

function unitMillis(name: string, unit: unknown): number | undefined {
  if (unit === undefined) return undefined;
  const millis = typeof unit === 'string' ? UNIT_MILLIS[unit] : undefined;
  if (millis === undefined)
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      `${name} 'unit' must be one of week, day, hour, minute, second or millisecond, not ${String(unit)}`,
    );
  return millis;
}

/** The sortBy field's path: the one field these functions order their points by. */
function sortPath(name: string, parentExpr: unknown): string {
  const sortBy = (parentExpr as { sortBy?: Document }).sortBy;
  const keys = sortBy ? Object.keys(sortBy) : [];
  if (keys.length !== 1)
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      `${name} requires a sortBy that consists of exactly one field`,
    );
  return `$${keys[0] as string}`;
}

/** The difference of two points' positions: milliseconds (a long) for dates, else mongod's $subtract. */
function run(later: unknown, earlier: unknown): unknown {
  if (later instanceof Date && earlier instanceof Date)
    return toStoredLong(BigInt(later.getTime() - earlier.getTime()));
  return difference(later, earlier);
}

interface WindowSpec {
  input?: unknown;
  unit?: unknown;
  N?: unknown;
  alpha?: unknown;
}

/** The function's argument, which must be an object (`{input, unit}`, `{input, N}`...). */
function windowSpec(name: string, argument: unknown): WindowSpec {
  if (bsonTypeName(argument) !== 'object')
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      `${name} expects an object with an 'input' field, but got ${typeNameOf(argument)}`,
    );
  return argument as WindowSpec;
}

const $derivative: WindowOperator = (_obj, collection, expr, options) => {
  const spec = windowSpec('$derivative', expr.inputExpr);
  const millis = unitMillis('$derivative', spec.unit);
  const first = collection[0];
  const last = collection[collection.length - 1];
  if (first === undefined || last === undefined) return null;
  const path = sortPath('$derivative', expr.parentExpr);
  const leftTime = evalExpr(first as never, path as never, options) as unknown;
  const rightTime = evalExpr(last as never, path as never, options) as unknown;
  if (millis !== undefined) {
    if (!(leftTime instanceof Date && rightTime instanceof Date))
      throw new MongoServerError(5624900, "$derivative with 'unit' expects the sortBy field to be a Date");
  } else {
    if (leftTime instanceof Date || rightTime instanceof Date)
      throw new MongoServerError(5624901, "$derivative where the sortBy is a Date requires an 'unit'");
    if (!numericKind(leftTime) || !numericKind(rightTime))
      throw new MongoServerError(
        5624902,
        "$derivative (with no 'unit') expects the sortBy field to be numeric",
      );
  }
  const elapsed = run(rightTime, leftTime);
  const top = evalExpr(last as never, spec.input as never, options) as unknown;
  const bottom = evalExpr(first as never, spec.input as never, options) as unknown;
  if (isNil(top) || isNil(bottom))
    throw new MongoServerError(5624903, '$derivative input must not be null or missing');
  if (!numericKind(top) || !numericKind(bottom))
    throw new MongoServerError(
      ErrorCode.Location16556,
      `can't $subtract ${typeNameOf(bottom)} from ${typeNameOf(top)}`,
    );
  // A window of one point (or two at the same time) has no slope.
  if (isZero(elapsed)) return null;
  const slope = quotient(difference(top, bottom), elapsed);
  return millis === undefined ? slope : productOf([slope, Long.fromNumber(millis)]);
};

/** One trapezoid's area between two points, (y1 + y2) × (x2 − x1) / 2.0, in mongod's arithmetic. */
function trapezoid([x1, y1]: readonly unknown[], [x2, y2]: readonly unknown[]): unknown {
  return quotient(productOf([sumOf([y2, y1]), run(x2, x1)]), new Double(2));
}

const isNaNNumber = (value: unknown): boolean => nonFiniteKind(value) === 'nan';

const $integral: WindowOperator = (_obj, collection, expr, options) => {
  const spec = windowSpec('$integral', expr.inputExpr);
  const millis = unitMillis('$integral', spec.unit);
  if (collection.length === 0) return null;
  const path = sortPath('$integral', expr.parentExpr);
  const points = collection.map((doc) => {
    const x = evalExpr(doc as never, path as never, options) as unknown;
    const y = evalExpr(doc as never, spec.input as never, options) as unknown;
    if (!numericKind(y) || !(numericKind(x) || x instanceof Date))
      throw new MongoServerError(
        5423900,
        'The input value of $integral window function must be a vector of 2 value, the first value must be numeric or date type and the second must be numeric.',
      );
    if (millis !== undefined && !(x instanceof Date))
      throw new MongoServerError(5423901, "$integral with 'unit' expects the sortBy field to be a Date");
    if (millis === undefined && !numericKind(x))
      throw new MongoServerError(
        5423902,
        "$integral (with no 'unit') expects the sortBy field to be numeric",
      );
    return [x, y] as const;
  });
  if (points.some(([x, y]) => isNaNNumber(x) || isNaNNumber(y))) return Number.NaN;
  const total = new WindowSum();
  for (let index = 1; index < points.length; index += 1)
    total.add(trapezoid(points[index - 1] as readonly unknown[], points[index] as readonly unknown[]));
  return millis === undefined ? total.value() : quotient(total.value(), Long.fromNumber(millis));
};

/** A whole number of any numeric type, else undefined. */
function wholeNumber(value: unknown): bigint | undefined {
  const kind = numericKind(value);
  if (kind === 'int' || kind === 'long') return toBigInt(value);
  if (kind === undefined) return undefined;
  const number = toJsNumber(value);
  return Number.isSafeInteger(number) ? BigInt(number) : undefined;
}

/** The smoothing factor: `2 / (N + 1)` or `alpha`, as a decimal (mongod computes the average in decimal). */
function smoothingFactor(spec: WindowSpec): DecimalValue {
  const { N, alpha } = spec;
  if ((N === undefined) === (alpha === undefined))
    throw new MongoServerError(
      ErrorCode.FailedToParse,
      "$expMovingAvg must have exactly one of 'N' or 'alpha'",
    );
  if (N !== undefined) {
    const count = wholeNumber(N);
    if (count === undefined || count <= 0n)
      throw new MongoServerError(
        ErrorCode.FailedToParse,
        `'N' field must be an integer greater than zero, but found ${String(toJsNumber(N))}`,
      );
    return decimalDivide(decimalOf(2), decimalOf(toStoredLong(count + 1n)));
  }
  const number = numericKind(alpha) ? toJsNumber(alpha) : Number.NaN;
  if (!(number > 0 && number < 1))
    throw new MongoServerError(ErrorCode.FailedToParse, "'alpha' must be between 0 and 1 (exclusive)");
  return decimalOf(alpha);
}

/** Each document's running average of a partition, computed once per partition and output field. */
const averagesByPartition = new WeakMap<unknown[], Map<string, unknown[]>>();

function exponentialAverages(collection: unknown[], spec: WindowSpec, options: Options): unknown[] {
  const alpha = smoothingFactor(spec);
  const complement = decimalAdd(decimalOf(1), decimalNegate(alpha));
  let current: DecimalValue | undefined;
  let decimal = false;
  return collection.map((doc) => {
    const value = evalExpr(doc as never, spec.input as never, options) as unknown;
    const kind = numericKind(value);
    if (kind) {
      decimal ||= kind === 'decimal';
      const next = decimalOf(value);
      current =
        current === undefined
          ? next
          : decimalAdd(decimalMultiply(next, alpha), decimalMultiply(current, complement));
    }
    if (current === undefined) return null;
    const result = encode(current);
    return decimal ? result : toStoredDouble(Number(result.toString()));
  });
}

const $expMovingAvg: WindowOperator = (_obj, collection, expr, options) => {
  const spec = windowSpec('$expMovingAvg', expr.inputExpr);
  let byField = averagesByPartition.get(collection);
  if (!byField) {
    byField = new Map();
    averagesByPartition.set(collection, byField);
  }
  let averages = byField.get(expr.field);
  if (!averages) {
    averages = exponentialAverages(collection, spec, options);
    byField.set(expr.field, averages);
  }
  return averages[expr.documentNumber - 1] ?? null;
};

/** A pair holding NaN or an infinity, as the one value mongod adds to the co-moment for it. */
function nonFiniteMoment(pair: readonly unknown[]): unknown {
  let nans = 0;
  let positives = 0;
  let negatives = 0;
  let decimal = false;
  for (const value of pair) {
    decimal ||= numericKind(value) === 'decimal';
    const kind = nonFiniteKind(value);
    if (kind === 'nan') nans += 1;
    else if (kind === 'positive') positives += 1;
    else if (kind === 'negative') negatives += 1;
  }
  if (nans > 0 || positives * negatives > 0) return nonFiniteValue('nan', decimal);
  return nonFiniteValue(positives > 0 ? 'positive' : 'negative', decimal);
}

/**
 * mongod's online covariance (`WindowFunctionCovariance`): the co-moment sums (x − mean x before) ×
 * (y − mean y after); pairs that are not two numbers are left out.
 */
function covariance(pairs: unknown[], sample: boolean): unknown {
  const meanX = new WindowMean();
  const meanY = new WindowMean();
  const moment = new WindowSum();
  let count = 0;
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    const [x, y] = pair as [unknown, unknown];
    if (!numericKind(x) || !numericKind(y)) continue;
    if (nonFiniteKind(x) !== undefined || nonFiniteKind(y) !== undefined) {
      moment.add(nonFiniteMoment(pair));
      continue;
    }
    count += 1;
    const before = meanX.value();
    meanX.add(x);
    meanY.add(y);
    if (before !== null) moment.add(productOf([difference(x, before), difference(y, meanY.value())]));
  }
  if (count === 1 && !sample) return toStoredDouble(0);
  const adjusted = sample ? count - 1 : count;
  if (adjusted <= 0) return null;
  const total = moment.value();
  if (numericKind(total) === 'decimal') return quotient(total, toStoredDouble(adjusted));
  return toStoredDouble(toJsNumber(total) / adjusted);
}

function covarianceOperator(sample: boolean): AccumulatorOperator {
  return (collection, expr, options) => {
    const plain = options.options ?? options;
    const pairs = collection.map((doc) => evalExpr(doc as never, expr as never, plain as never) as unknown);
    return covariance(pairs, sample);
  };
}

export const numericWindowOperators: Record<string, WindowOperator> = {
  $derivative,
  $integral,
  $expMovingAvg,
};

export const covarianceAccumulators: Record<string, AccumulatorOperator> = {
  $covariancePop: covarianceOperator(false),
  $covarianceSamp: covarianceOperator(true),
};

/**
 * mingo's `$setWindowFields` computes each output through a `$function` whose body is its own JS closure.
 * Server-side JavaScript stays off: this `$function` runs only such closures; a `$function` sent by a
 * client (its body is BSON code or a string, never a JS function) is refused as before.
 */
export const windowStageFunction: ExpressionOperator = (obj, expr, options) => {
  const spec = evalExpr(obj as never, expr as never, options) as { body?: unknown; args?: unknown };
  if (typeof spec?.body !== 'function')
    throw new MongoServerError(ErrorCode.BadValue, "$function requires 'scriptEnabled' option to be true");
  const body = spec.body as (...args: unknown[]) => unknown;
  return body(...(Array.isArray(spec.args) ? spec.args : []));
};
