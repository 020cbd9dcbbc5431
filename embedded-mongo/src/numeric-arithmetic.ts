import type { Decimal128 } from 'bson';
import { Decimal } from 'decimal.js';

import {
  INT32_MAX,
  INT32_MIN,
  INT64_MAX,
  INT64_MIN,
  isInt32Number,
  numericKind,
  toBigInt,
  toJsNumber,
  toStoredDouble,
  toStoredLong,
  type NumericKind,
} from './bson-numbers.js';
import {
  decimalAbs,
  decimalAdd,
  decimalDivide,
  decimalMultiply,
  decimalNegate,
  decimalOf,
  decimalQuantize,
  decimalRemainder,
  decimalToIntegral,
  encode,
  isDecimalZero,
  type DecimalValue,
} from './decimal128-arithmetic.js';

/**
 * mongod's arithmetic on BSON numbers: the result has the widest operand type (int < long < double <
 * decimal); int overflow widens to long and long overflow to double.
 */

/** IEEE 754 decimal128 precision and rounding. */
const Decimal34 = Decimal.clone({
  precision: 34,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -6176,
  toExpPos: 6144,
  minE: -6176,
  maxE: 6144,
});
type Decimal34 = InstanceType<typeof Decimal34>;

const RANK: Record<NumericKind, number> = { int: 0, long: 1, double: 2, decimal: 3 };

export function widest(a: NumericKind, b: NumericKind): NumericKind {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The widest numeric type among values (a non-number counts as an int). */
function widestOf(values: readonly unknown[]): NumericKind {
  let kind: NumericKind = 'int';
  for (const value of values) kind = widest(kind, numericKind(value) ?? 'int');
  return kind;
}

/** Values combined left to right in decimal128 arithmetic (each converted as mongod converts it). */
function decimalFold(
  values: readonly unknown[],
  combine: (total: DecimalValue, next: DecimalValue) => DecimalValue,
): Decimal128 {
  let total = decimalOf(values[0]);
  for (let index = 1; index < values.length; index += 1) total = combine(total, decimalOf(values[index]));
  return encode(total);
}

/** An integer result: int when it fits and the operands were ints, else long, else (overflow) double. */
function integral(total: bigint, kind: 'int' | 'long', overflow: () => number): unknown {
  if (kind === 'int' && total >= BigInt(INT32_MIN) && total <= BigInt(INT32_MAX)) return Number(total);
  if (total >= INT64_MIN && total <= INT64_MAX) return toStoredLong(total);
  return toStoredDouble(overflow());
}

/** The sum of numbers (`$add`, `$sum`, `$inc`), typed as mongod types it. */
export function sumOf(values: readonly unknown[]): unknown {
  const [a, b] = values;
  // Two plain numbers (the common `$inc`): no widening bookkeeping.
  if (values.length === 2 && typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (!isInt32Number(a) || !isInt32Number(b)) return toStoredDouble(sum);
    return isInt32Number(sum) ? sum : toStoredLong(BigInt(sum));
  }
  const kind = widestOf(values);
  if (kind === 'decimal') return decimalFold(values, decimalAdd);
  if (kind === 'double')
    return toStoredDouble(values.reduce<number>((total, value) => total + toJsNumber(value), 0));
  let total = 0n;
  for (const value of values) total += toBigInt(value);
  return integral(total, kind, () => values.reduce<number>((sum, value) => sum + toJsNumber(value), 0));
}

export function difference(a: unknown, b: unknown): unknown {
  const kind = widest(numericKind(a) ?? 'int', numericKind(b) ?? 'int');
  if (kind === 'decimal') return encode(decimalAdd(decimalOf(a), decimalNegate(decimalOf(b))));
  if (kind === 'double') return toStoredDouble(toJsNumber(a) - toJsNumber(b));
  return integral(toBigInt(a) - toBigInt(b), kind, () => toJsNumber(a) - toJsNumber(b));
}

export function productOf(values: readonly unknown[]): unknown {
  const kind = widestOf(values);
  if (kind === 'decimal') return decimalFold(values, decimalMultiply);
  if (kind === 'double')
    return toStoredDouble(values.reduce<number>((total, value) => total * toJsNumber(value), 1));
  let product = 1n;
  let overflowed = false;
  for (const value of values) {
    product *= toBigInt(value);
    if (product < INT64_MIN || product > INT64_MAX) overflowed = true;
  }
  const asDouble = (): number => values.reduce<number>((total, value) => total * toJsNumber(value), 1);
  if (overflowed) return toStoredDouble(asDouble());
  return integral(product, kind, asDouble);
}

/** `$divide`: a double, or a decimal when either side is one. The caller refuses a zero divisor. */
export function quotient(a: unknown, b: unknown): unknown {
  if (numericKind(a) === 'decimal' || numericKind(b) === 'decimal')
    return encode(decimalDivide(decimalOf(a), decimalOf(b)));
  return toStoredDouble(toJsNumber(a) / toJsNumber(b));
}

/** `$mod`: the remainder with the dividend's sign, typed like the widest operand. */
export function remainder(a: unknown, b: unknown): unknown {
  const kind = widest(numericKind(a) ?? 'int', numericKind(b) ?? 'int');
  if (kind === 'decimal') return encode(decimalRemainder(decimalOf(a), decimalOf(b)));
  if (kind === 'double') return toStoredDouble(toJsNumber(a) % toJsNumber(b));
  const result = toBigInt(a) % toBigInt(b);
  return kind === 'int' ? Number(result) : toStoredLong(result);
}

export function isZero(value: unknown): boolean {
  if (numericKind(value) === 'decimal') return isDecimalZero(decimalOf(value));
  return toJsNumber(value) === 0;
}

/** `$abs`; undefined for the one value it cannot take (the smallest long). */
export function absolute(value: unknown): unknown {
  switch (numericKind(value)) {
    case 'int': {
      const number = value as number;
      return number === INT32_MIN ? toStoredLong(2n ** 31n) : Math.abs(number);
    }
    case 'long': {
      const big = toBigInt(value);
      if (big === INT64_MIN) return undefined;
      return toStoredLong(big < 0n ? -big : big);
    }
    case 'decimal':
      return encode(decimalAbs(decimalOf(value)));
    default:
      return toStoredDouble(Math.abs(toJsNumber(value)));
  }
}

export type RoundingMode = 'round' | 'trunc' | 'ceil' | 'floor';

const DECIMAL_ROUNDING: Record<RoundingMode, Decimal.Rounding> = {
  round: Decimal.ROUND_HALF_EVEN,
  trunc: Decimal.ROUND_DOWN,
  ceil: Decimal.ROUND_CEIL,
  floor: Decimal.ROUND_FLOOR,
};

function roundDecimal(value: Decimal34, mode: RoundingMode, place: number): Decimal34 {
  if (!value.isFinite()) return value;
  if (place >= 0) return value.toDecimalPlaces(place, DECIMAL_ROUNDING[mode]);
  const scale = new Decimal34(10).pow(-place);
  return value.dividedBy(scale).toDecimalPlaces(0, DECIMAL_ROUNDING[mode]).times(scale);
}

/** `$round`/`$trunc` (with a place) and `$ceil`/`$floor`: the value's own type is kept. */
export function rounded(value: unknown, mode: RoundingMode, place = 0): unknown {
  const kind = numericKind(value);
  if (kind === 'int' || kind === 'long') {
    if (place >= 0) return value;
    const result = BigInt(roundDecimal(new Decimal34(toBigInt(value).toString()), mode, place).toFixed(0));
    return kind === 'int' && result >= BigInt(INT32_MIN) && result <= BigInt(INT32_MAX)
      ? Number(result)
      : toStoredLong(result);
  }
  if (kind === 'decimal') {
    const decimal = decimalOf(value);
    // mongod quantizes for $round/$trunc (to exponent -place) and rounds to an integral for $ceil/$floor.
    return encode(
      mode === 'ceil' || mode === 'floor'
        ? decimalToIntegral(decimal, mode)
        : decimalQuantize(decimal, place, mode),
    );
  }
  const number = toJsNumber(value);
  if (!Number.isFinite(number)) return number;
  if (place === 0 && mode !== 'round') return toStoredDouble(Math[mode](number));
  return toStoredDouble(roundDecimal(new Decimal34(number), mode, place).toNumber());
}
