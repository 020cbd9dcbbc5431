import { Decimal128, type Document } from 'bson';
import { evalExpr } from 'mingo/core';
import * as expressionOperators from 'mingo/operators/expression';
import type { Options } from 'mingo/types';
import { resolve } from 'mingo/util';

import {
  INT32_MAX,
  INT32_MIN,
  INT64_MAX,
  INT64_MIN,
  numericKind,
  toJsNumber,
  toStoredDouble,
  toStoredLong,
  type NumericKind,
} from './bson-numbers.js';
import { bsonTypeName, hasTypeIn, typeSetOf } from './bson-types.js';
import { decimalOf, decimalTruncated, encode } from './decimal128-arithmetic.js';
import { mongoMeanOf, mongoSumOf } from './double-summation.js';
import { ErrorCode, MongoServerError } from './errors.js';
import {
  absolute,
  difference,
  isZero,
  productOf,
  quotient,
  remainder,
  rounded,
  sumOf,
  type RoundingMode,
} from './numeric-arithmetic.js';
import type { AccumulatorOperator, ExpressionOperator, QueryOperator } from './operator-types.js';

/**
 * The query engine's operators that read or make numbers, replaced by ones that follow mongod's BSON
 * types (see bson-numbers.ts for the in-memory form and numeric-arithmetic.ts for the promotion rules).
 */

const isNil = (value: unknown): boolean => value === null || value === undefined;

function typeLabel(value: unknown): string {
  return bsonTypeName(value) ?? 'missing';
}

function fail(code: number, message: string): never {
  throw new MongoServerError(code, message);
}

/** The evaluated arguments of an operator taking an array of expressions (or one expression). */
function argumentsOf(obj: unknown, expr: unknown, options: Options): unknown[] {
  const values = evalExpr(obj as never, expr as never, options) as unknown;
  return Array.isArray(expr) ? (values as unknown[]) : [values];
}

function exactly(name: string, args: unknown[], count: number): void {
  if (args.length !== count)
    fail(
      ErrorCode.Location16020,
      `Expression ${name} takes exactly ${count} arguments. ${args.length} were passed in.`,
    );
}

const $add: ExpressionOperator = (obj, expr, options) => {
  const args = argumentsOf(obj, expr, options);
  let date: Date | undefined;
  const numbers: unknown[] = [];
  for (const value of args) {
    if (isNil(value)) return null;
    if (value instanceof Date) {
      if (date) fail(ErrorCode.Location16612, 'only one date allowed in an $add expression');
      date = value;
    } else if (numericKind(value)) numbers.push(value);
    else fail(ErrorCode.Location16554, `$add only supports numeric or date types, not ${typeLabel(value)}`);
  }
  if (date) return new Date(date.getTime() + Math.round(toJsNumber(sumOf(numbers))));
  return sumOf(numbers);
};

const $subtract: ExpressionOperator = (obj, expr, options) => {
  const args = argumentsOf(obj, expr, options);
  exactly('$subtract', args, 2);
  const [left, right] = args;
  if (isNil(left) || isNil(right)) return null;
  if (numericKind(left) && numericKind(right)) return difference(left, right);
  if (left instanceof Date && right instanceof Date)
    return toStoredLong(BigInt(left.getTime() - right.getTime()));
  if (left instanceof Date && numericKind(right))
    return new Date(left.getTime() - Math.round(toJsNumber(right)));
  return fail(ErrorCode.Location16556, `can't $subtract ${typeLabel(right)} from ${typeLabel(left)}`);
};

const $multiply: ExpressionOperator = (obj, expr, options) => {
  const args = argumentsOf(obj, expr, options);
  for (const value of args) {
    if (isNil(value)) return null;
    if (!numericKind(value))
      fail(ErrorCode.Location16555, `$multiply only supports numeric types, not ${typeLabel(value)}`);
  }
  return productOf(args);
};

function binaryNumeric(
  name: string,
  typeCode: number,
  zeroCode: number,
  zeroMessage: string,
  compute: (a: unknown, b: unknown) => unknown,
): ExpressionOperator {
  return (obj, expr, options) => {
    const args = argumentsOf(obj, expr, options);
    exactly(name, args, 2);
    const [left, right] = args;
    if (isNil(left) || isNil(right)) return null;
    if (!numericKind(left) || !numericKind(right))
      fail(typeCode, `${name} only supports numeric types, not ${typeLabel(left)} and ${typeLabel(right)}`);
    if (isZero(right)) fail(zeroCode, zeroMessage);
    return compute(left, right);
  };
}

const $divide = binaryNumeric(
  '$divide',
  ErrorCode.Location16609,
  ErrorCode.Location16608,
  "can't $divide by zero",
  quotient,
);
const $mod = binaryNumeric(
  '$mod',
  ErrorCode.Location16611,
  ErrorCode.Location16610,
  "can't $mod by zero",
  remainder,
);

function unaryNumeric(name: string, compute: (value: unknown) => unknown): ExpressionOperator {
  return (obj, expr, options) => {
    const args = argumentsOf(obj, expr, options);
    exactly(name, args, 1);
    const [value] = args;
    if (isNil(value)) return null;
    if (!numericKind(value))
      fail(ErrorCode.Location28765, `${name} only supports numeric types, not ${typeLabel(value)}`);
    return compute(value);
  };
}

const $abs = unaryNumeric('$abs', (value) => {
  const result = absolute(value);
  if (result === undefined) fail(ErrorCode.Location28680, "can't take $abs of long long min");
  return result;
});

function placeRounding(name: string, mode: RoundingMode): ExpressionOperator {
  return (obj, expr, options) => {
    const args = argumentsOf(obj, expr, options);
    if (args.length < 1 || args.length > 2)
      fail(
        ErrorCode.Location28667,
        `Expression ${name} takes at least 1 argument, and at most 2. ${args.length} were passed in.`,
      );
    const [value, placeValue] = args;
    if (isNil(value) || (args.length === 2 && isNil(placeValue))) return null;
    if (!numericKind(value))
      fail(ErrorCode.Location51081, `${name} only supports numeric types, not ${typeLabel(value)}`);
    let place = 0;
    if (args.length === 2) {
      const kind = numericKind(placeValue);
      place = kind ? toJsNumber(placeValue) : Number.NaN;
      if (!Number.isInteger(place))
        fail(ErrorCode.Location51082, `precision argument to  ${name} must be a integral value`);
      if (place < -20 || place > 100)
        fail(
          ErrorCode.Location51083,
          `cannot apply ${name} with precision value ${place} value must be in [-20, 100]`,
        );
    }
    return rounded(value, mode, place);
  };
}

// ---- conversions ------------------------------------------------------------------------------

type NumericTarget = 'int' | 'long' | 'double' | 'decimal';

const TARGETS: Record<string, NumericTarget> = {
  int: 'int',
  long: 'long',
  double: 'double',
  decimal: 'decimal',
  '16': 'int',
  '18': 'long',
  '1': 'double',
  '19': 'decimal',
};

class ConversionError extends Error {}

function conversionFailure(reason: string): never {
  throw new ConversionError(reason);
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseText(text: string, target: NumericTarget): unknown {
  const failed = (why: string): never =>
    conversionFailure(`Failed to parse number '${text}' in $convert with no onError value: ${why}`);
  if (target === 'int' || target === 'long') {
    if (!INTEGER_TEXT.test(text)) failed('Did not consume whole string.');
    const big = BigInt(text);
    const [low, high] = target === 'int' ? [BigInt(INT32_MIN), BigInt(INT32_MAX)] : [INT64_MIN, INT64_MAX];
    if (big < low || big > high) failed('Overflow');
    return target === 'int' ? Number(big) : toStoredLong(big);
  }
  const special = /^[+-]?(nan|inf|infinity)$/i.test(text);
  if (!special && !FLOAT_TEXT.test(text)) failed('Did not consume whole string.');
  if (target === 'decimal') return Decimal128.fromString(text);
  const number = /nan/i.test(text)
    ? Number.NaN
    : special
      ? text.startsWith('-')
        ? -Infinity
        : Infinity
      : Number(text);
  return toStoredDouble(number);
}

/** A number truncated to an int or long, refusing NaN, infinities and values out of range. */
function toIntegral(value: unknown, target: 'int' | 'long'): unknown {
  const kind = numericKind(value) as NumericKind;
  let big: bigint;
  if (kind === 'int' || kind === 'long')
    big = BigInt(String(kind === 'int' ? value : (value as { toBigInt(): bigint }).toBigInt()));
  else {
    const decimal = decimalOf(value);
    const shown = kind === 'double' ? String(toJsNumber(value)) : (value as Decimal128).toString();
    if (decimal.kind === 'nan')
      conversionFailure(
        `Attempt to convert NaN value to integer type in $convert with no onError value: ${shown}`,
      );
    if (decimal.kind === 'infinity')
      conversionFailure(
        `Attempt to convert infinity value to integer type in $convert with no onError value: ${shown}`,
      );
    big = kind === 'double' ? BigInt(Math.trunc(toJsNumber(value))) : decimalTruncated(decimal);
  }
  const [low, high] = target === 'int' ? [BigInt(INT32_MIN), BigInt(INT32_MAX)] : [INT64_MIN, INT64_MAX];
  if (big < low || big > high)
    conversionFailure(
      `Conversion would overflow target type in $convert with no onError value: ${String(toJsNumber(value))}`,
    );
  return target === 'int' ? Number(big) : toStoredLong(big);
}

function convertTo(value: unknown, target: NumericTarget): unknown {
  const kind = numericKind(value);
  if (kind) {
    if (target === 'int' || target === 'long') return toIntegral(value, target);
    if (target === 'double') return toStoredDouble(toJsNumber(value));
    // mongod keeps the digits: a double converts to 15 significant digits (0.1 is 0.100000000000000).
    return encode(decimalOf(value));
  }
  if (typeof value === 'boolean') return convertTo(value ? 1 : 0, target);
  if (typeof value === 'string') return parseText(value, target);
  if (value instanceof Date && target !== 'int')
    return convertTo(toStoredLong(BigInt(value.getTime())), target);
  return conversionFailure(
    `Unsupported conversion from ${typeLabel(value)} to ${target} in $convert with no onError value`,
  );
}

function converting(value: unknown, target: NumericTarget): unknown {
  try {
    return convertTo(value, target);
  } catch (error) {
    if (error instanceof ConversionError) fail(ErrorCode.ConversionFailure, error.message);
    throw error;
  }
}

function shortConversion(target: NumericTarget): ExpressionOperator {
  return (obj, expr, options) => {
    const value = evalExpr(obj as never, expr as never, options) as unknown;
    return isNil(value) ? null : converting(value, target);
  };
}

/** A number as text the way mongod's `$toString` writes it. */
function numberText(value: unknown): string {
  switch (numericKind(value)) {
    case 'long':
      return (value as { toBigInt(): bigint }).toBigInt().toString();
    case 'decimal':
      return (value as Decimal128).toString();
    default:
      return String(toJsNumber(value));
  }
}

/** A number wrapper given to the engine's own conversions (string, bool, date) as a plain value. */
function plainNumber(value: unknown): unknown {
  return typeof value === 'object' && numericKind(value) ? toJsNumber(value) : value;
}

const engine = expressionOperators as unknown as Record<string, ExpressionOperator>;

function delegating(name: string, own: (value: unknown) => unknown): ExpressionOperator {
  return (obj, expr, options) => {
    const value = evalExpr(obj as never, expr as never, options) as unknown;
    if (numericKind(value) && typeof value === 'object') return own(value);
    return (engine[name] as ExpressionOperator)(obj, { $literal: value }, options);
  };
}

const $convert: ExpressionOperator = (obj, expr, options) => {
  if (
    expr === null ||
    typeof expr !== 'object' ||
    Array.isArray(expr) ||
    !('input' in expr) ||
    !('to' in expr)
  )
    return (engine.$convert as ExpressionOperator)(obj, expr, options);
  const spec = expr as Document;
  const to = evalExpr(obj as never, spec.to as never, options) as unknown;
  const target = TARGETS[String(typeof to === 'object' && numericKind(to) ? toJsNumber(to) : to)];
  const input = evalExpr(obj as never, spec.input as never, options) as unknown;
  if (!target) {
    const literal = { ...spec, input: { $literal: plainNumber(input) }, to: { $literal: to } };
    if (typeof to === 'string' && to === 'string' && numericKind(input)) return numberText(input);
    return (engine.$convert as ExpressionOperator)(obj, literal, options);
  }
  if (isNil(input))
    return spec.onNull === undefined ? null : evalExpr(obj as never, spec.onNull as never, options);
  try {
    return convertTo(input, target);
  } catch (error) {
    if (!(error instanceof ConversionError)) throw error;
    if (spec.onError === undefined) fail(ErrorCode.ConversionFailure, error.message);
    return evalExpr(obj as never, spec.onError as never, options);
  }
};

export const numericExpressionOperators: Record<string, ExpressionOperator> = {
  $add,
  $subtract,
  $multiply,
  $divide,
  $mod,
  $abs,
  $ceil: unaryNumeric('$ceil', (value) => rounded(value, 'ceil')),
  $floor: unaryNumeric('$floor', (value) => rounded(value, 'floor')),
  $round: placeRounding('$round', 'round'),
  $trunc: placeRounding('$trunc', 'trunc'),
  $type: (obj, expr, options) => {
    const [value] = argumentsOf(obj, expr, options);
    return typeLabel(value);
  },
  $isNumber: (obj, expr, options) => {
    const [value] = argumentsOf(obj, expr, options);
    return numericKind(value) !== undefined;
  },
  $toInt: shortConversion('int'),
  $toLong: shortConversion('long'),
  $toDouble: shortConversion('double'),
  $toDecimal: shortConversion('decimal'),
  $convert,
  $toString: delegating('$toString', numberText),
  $toBool: delegating('$toBool', (value) => !isZero(value)),
  $toDate: delegating('$toDate', (value) => {
    if (numericKind(value) === 'decimal' || numericKind(value) === 'int')
      fail(
        ErrorCode.ConversionFailure,
        `Unsupported conversion from ${typeLabel(value)} to date in $convert with no onError value`,
      );
    return new Date(toJsNumber(value));
  }),
};

// ---- accumulators -------------------------------------------------------------------------------

function accumulated(
  collection: unknown[],
  expr: unknown,
  options: Options & { options?: Options },
): unknown[] {
  const plain = options.options ?? options;
  const values: unknown[] = [];
  // A constant ({$sum: 1}) counts once per document.
  if (numericKind(expr) !== undefined) return collection.map(() => expr);
  // Used as an expression ({$sum: '$array'}), the engine passes the values themselves and no expression.
  if (expr === null) return collection.filter((value) => numericKind(value) !== undefined);
  for (const doc of collection) {
    const value = evalExpr(doc as never, expr as never, plain as never) as unknown;
    if (numericKind(value) !== undefined) values.push(value);
  }
  return values;
}

export const numericAccumulators: Record<string, AccumulatorOperator> = {
  $sum: (collection, expr, options) => mongoSumOf(accumulated(collection, expr, options)),
  $avg: (collection, expr, options) => mongoMeanOf(accumulated(collection, expr, options)),
};

// ---- query --------------------------------------------------------------------------------------

/** `$type` in a filter: the field's value, or any element of an array there, has one of the types. */
const $typeQuery: QueryOperator = (selector, operand) => {
  const types = typeSetOf(operand);
  return (obj) => {
    const value = resolve(obj as never, selector, { unwrapArray: true }) as unknown;
    if (hasTypeIn(value, types)) return true;
    return Array.isArray(value) && value.some((item) => hasTypeIn(item, types));
  };
};

/** An integer of any numeric kind truncated toward zero, undefined for NaN and infinities. */
function truncatedInteger(value: unknown): bigint | undefined {
  const kind = numericKind(value);
  if (kind === 'int' || kind === 'long')
    return (value as { toBigInt?: () => bigint }).toBigInt?.() ?? BigInt(value as number);
  const number = toJsNumber(value);
  return Number.isFinite(number) ? BigInt(Math.trunc(number)) : undefined;
}

/** `$mod` in a filter: `[divisor, remainder]`, both truncated to integers, tested on the truncated value. */
const $modQuery: QueryOperator = (selector, operand) => {
  if (!Array.isArray(operand)) fail(ErrorCode.BadValue, 'malformed mod, needs to be an array');
  if (operand.length < 2) fail(ErrorCode.BadValue, 'malformed mod, not enough elements');
  if (operand.length > 2) fail(ErrorCode.BadValue, 'malformed mod, too many elements');
  const [divisorValue, remainderValue] = operand as [unknown, unknown];
  if (!numericKind(divisorValue)) fail(ErrorCode.BadValue, 'malformed mod, divisor not a number');
  if (!numericKind(remainderValue)) fail(ErrorCode.BadValue, 'malformed mod, remainder not a number');
  const divisor = truncatedInteger(divisorValue);
  const wanted = truncatedInteger(remainderValue);
  if (divisor === undefined || wanted === undefined)
    fail(ErrorCode.BadValue, 'malformed mod, divisor and remainder must be finite numbers');
  if (divisor === 0n) fail(ErrorCode.BadValue, 'divisor cannot be 0');
  const matches = (value: unknown): boolean => {
    if (!numericKind(value)) return false;
    const integer = truncatedInteger(value);
    return integer !== undefined && integer % divisor === wanted;
  };
  return (obj) => {
    const value = resolve(obj as never, selector, { unwrapArray: true }) as unknown;
    return matches(value) || (Array.isArray(value) && value.some(matches));
  };
};

export const numericQueryOperators: Record<string, QueryOperator> = { $type: $typeQuery, $mod: $modQuery };
