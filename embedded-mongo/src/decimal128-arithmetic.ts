import { Decimal128 } from 'bson';

import { numericKind, toBigInt, toJsNumber } from './bson-numbers.js';
import { exactDoubleString } from './exact-numbers.js';

/**
 * IEEE 754-2008 decimal128 arithmetic as mongod does it (the Intel library): a result keeps its cohort,
 * the coefficient and exponent the standard prescribes (`1.50 + 1` is `2.50`, `1.50 * 2` is `3.00`), where
 * decimal.js would normalise trailing zeros away. Rounding is to 34 significant digits, half to even.
 */

export type Finite = { kind: 'finite'; negative: boolean; coefficient: bigint; exponent: number };
type Special = { kind: 'nan' } | { kind: 'infinity'; negative: boolean };
export type DecimalValue = Finite | Special;

export type DecimalRounding = 'round' | 'trunc' | 'ceil' | 'floor';

const PRECISION = 34;
/** The significant digits mongod gives a double converted to a decimal. */
const DOUBLE_DIGITS = 15;
const MIN_EXPONENT = -6176;
const MAX_EXPONENT = 6111;
const NAN: Special = { kind: 'nan' };

const digitCount = (value: bigint): number => (value === 0n ? 1 : value.toString().length);
const pow10 = (digits: number): bigint => 10n ** BigInt(digits);

function parse(text: string): DecimalValue {
  const match = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (match === null) {
    if (/nan/i.test(text)) return NAN;
    return { kind: 'infinity', negative: text.startsWith('-') };
  }
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  return {
    kind: 'finite',
    negative: sign === '-',
    coefficient: BigInt(`${whole}${fraction}` || '0'),
    exponent: Number(exponent) - fraction.length,
  };
}

/** A number of any BSON type as a decimal, a double through 15 significant digits as mongod converts it. */
export function decimalOf(value: unknown): DecimalValue {
  switch (numericKind(value)) {
    case 'decimal':
      return parse((value as Decimal128).toString());
    case 'double':
      return decimalOfDouble(toJsNumber(value));
    default: {
      const big = toBigInt(value);
      return { kind: 'finite', negative: big < 0n, coefficient: big < 0n ? -big : big, exponent: 0 };
    }
  }
}

/**
 * mongod's `Decimal128(double, kRoundTo15Digits)`: the double's exact value rounded to 34 digits (the
 * binary-to-decimal conversion), then quantized to exactly 15 significant digits, both half to even, so
 * trailing zeros stay (`0.1` is `0.100000000000000`, `2.5` is `2.50000000000000`). Zero is not quantized.
 */
function decimalOfDouble(number: number): DecimalValue {
  if (Number.isNaN(number)) return NAN;
  if (!Number.isFinite(number)) return { kind: 'infinity', negative: number < 0 };
  if (number === 0) return { kind: 'finite', negative: Object.is(number, -0), coefficient: 0n, exponent: 0 };
  const exact = parse(exactDoubleString(number)) as Finite;
  const converted = toDigits(toDigits(exact, PRECISION), DOUBLE_DIGITS);
  const missing = DOUBLE_DIGITS - digitCount(converted.coefficient);
  if (missing <= 0) return converted;
  return {
    ...converted,
    coefficient: converted.coefficient * pow10(missing),
    exponent: converted.exponent - missing,
  };
}

/**
 * mongod's `Decimal128(double, kRoundTo34Digits)`: the double's exact value rounded half to even to 34
 * significant digits, without the 15-digit quantizing (zero keeps exponent 0).
 */
export function decimalOfDouble34(number: number): DecimalValue {
  if (Number.isNaN(number)) return NAN;
  if (!Number.isFinite(number)) return { kind: 'infinity', negative: number < 0 };
  if (number === 0) return { kind: 'finite', negative: Object.is(number, -0), coefficient: 0n, exponent: 0 };
  return toDigits(parse(exactDoubleString(number)) as Finite, PRECISION);
}

/** A finite value rounded half to even to at most `digits` significant digits. */
function toDigits(value: Finite, digits: number): Finite {
  const excess = digitCount(value.coefficient) - digits;
  if (excess <= 0) return value;
  let coefficient = dropDigits(value.coefficient, excess, 'round', value.negative);
  let exponent = value.exponent + excess;
  if (digitCount(coefficient) > digits) {
    coefficient /= 10n;
    exponent += 1;
  }
  return { ...value, coefficient, exponent };
}

/** The coefficient with its last `count` digits removed, rounded by `mode` (`sticky`: lost digits beyond). */
function dropDigits(
  coefficient: bigint,
  count: number,
  mode: DecimalRounding,
  negative: boolean,
  sticky = false,
) {
  if (count <= 0) return coefficient;
  const scale = pow10(count);
  const kept = coefficient / scale;
  const rest = coefficient % scale;
  if (rest === 0n && !sticky) return kept;
  switch (mode) {
    case 'trunc':
      return kept;
    case 'ceil':
      return negative ? kept : kept + 1n;
    case 'floor':
      return negative ? kept + 1n : kept;
    default: {
      const twice = 2n * rest;
      const up = twice > scale || (twice === scale && (sticky || kept % 2n === 1n));
      return up ? kept + 1n : kept;
    }
  }
}

/** An exact result rounded to 34 digits and into the exponent range. */
function finish(negative: boolean, coefficient: bigint, exponent: number, sticky = false): DecimalValue {
  let value = coefficient;
  let exp = exponent;
  const excess = Math.max(digitCount(value) - PRECISION, MIN_EXPONENT - exp);
  if (excess > 0) {
    value = dropDigits(value, excess, 'round', negative, sticky);
    exp += excess;
    if (digitCount(value) > PRECISION) {
      value /= 10n;
      exp += 1;
    }
  }
  while (exp > MAX_EXPONENT && value !== 0n && digitCount(value) < PRECISION) {
    value *= 10n;
    exp -= 1;
  }
  if (exp > MAX_EXPONENT) {
    if (value !== 0n) return { kind: 'infinity', negative };
    exp = MAX_EXPONENT;
  }
  return { kind: 'finite', negative, coefficient: value, exponent: exp };
}

export function encode(value: DecimalValue): Decimal128 {
  if (value.kind === 'nan') return Decimal128.fromString('NaN');
  if (value.kind === 'infinity') return Decimal128.fromString(value.negative ? '-Infinity' : 'Infinity');
  const result = finish(value.negative, value.coefficient, value.exponent);
  if (result.kind !== 'finite') return encode(result);
  return Decimal128.fromString(`${result.negative ? '-' : ''}${result.coefficient}E${result.exponent}`);
}

/** The sum, exact then rounded, at the smaller exponent (an exact zero is +0, as in round-half-even). */
export function decimalAdd(a: DecimalValue, b: DecimalValue): DecimalValue {
  if (a.kind === 'nan' || b.kind === 'nan') return NAN;
  if (a.kind === 'infinity' || b.kind === 'infinity') {
    if (a.kind === 'infinity' && b.kind === 'infinity' && a.negative !== b.negative) return NAN;
    return a.kind === 'infinity' ? a : b;
  }
  const exponent = Math.min(a.exponent, b.exponent);
  const signed = (x: Finite): bigint =>
    (x.negative ? -1n : 1n) * x.coefficient * pow10(x.exponent - exponent);
  const total = signed(a) + signed(b);
  const negative = total < 0n || (total === 0n && a.negative && b.negative);
  return finish(negative, total < 0n ? -total : total, exponent);
}

export function decimalNegate(value: DecimalValue): DecimalValue {
  return value.kind === 'nan' ? value : { ...value, negative: !value.negative };
}

export function decimalMultiply(a: DecimalValue, b: DecimalValue): DecimalValue {
  if (a.kind === 'nan' || b.kind === 'nan') return NAN;
  const negative = a.negative !== b.negative;
  if (a.kind === 'infinity' || b.kind === 'infinity') {
    const other = a.kind === 'infinity' ? b : a;
    if (other.kind === 'finite' && other.coefficient === 0n) return NAN;
    return { kind: 'infinity', negative };
  }
  return finish(negative, a.coefficient * b.coefficient, a.exponent + b.exponent);
}

/**
 * The quotient: exact ones at the exponent nearest the preferred one (dividend's minus divisor's), inexact
 * ones rounded to 34 digits. The caller refuses a zero divisor.
 */
export function decimalDivide(a: DecimalValue, b: DecimalValue): DecimalValue {
  if (a.kind === 'nan' || b.kind === 'nan') return NAN;
  const negative = a.negative !== b.negative;
  if (a.kind === 'infinity') return b.kind === 'infinity' ? NAN : { kind: 'infinity', negative };
  if (b.kind === 'infinity') return { kind: 'finite', negative, coefficient: 0n, exponent: 0 };
  const preferred = a.exponent - b.exponent;
  if (a.coefficient === 0n) return { kind: 'finite', negative, coefficient: 0n, exponent: preferred };
  // Enough digits that the quotient has at least 35: the 35th decides the rounding with the remainder.
  const shift = Math.max(0, PRECISION + 1 + digitCount(b.coefficient) - digitCount(a.coefficient));
  const dividend = a.coefficient * pow10(shift);
  let quotient = dividend / b.coefficient;
  const exact = dividend % b.coefficient === 0n;
  let exponent = preferred - shift;
  if (exact)
    while (exponent < preferred && quotient % 10n === 0n) {
      quotient /= 10n;
      exponent += 1;
    }
  return finish(negative, quotient, exponent, !exact);
}

/**
 * `fmod` as the Intel library's `bid128_fmod` (mongod's `Decimal128::modulo`): the exact remainder of the
 * truncated quotient, with the dividend's sign, at the smaller of the two exponents (`7.50 mod 2` is
 * `1.50`). The caller refuses a zero divisor.
 */
export function decimalRemainder(a: DecimalValue, b: DecimalValue): DecimalValue {
  if (a.kind !== 'finite' || b.kind === 'nan') return NAN;
  if (b.kind === 'infinity') return a;
  const exponent = Math.min(a.exponent, b.exponent);
  const dividend = a.coefficient * pow10(a.exponent - exponent);
  const divisor = b.coefficient * pow10(b.exponent - exponent);
  return finish(a.negative, dividend % divisor, exponent);
}

/** A finite value truncated toward zero to an integer. */
export function decimalTruncated(value: Finite): bigint {
  const magnitude =
    value.exponent >= 0
      ? value.coefficient * pow10(value.exponent)
      : value.coefficient / pow10(-value.exponent);
  return value.negative ? -magnitude : magnitude;
}

export function decimalAbs(value: DecimalValue): DecimalValue {
  return value.kind === 'nan' ? value : { ...value, negative: false };
}

/** IEEE quantize to exponent `-place` (mongod's `$round`/`$trunc` of a decimal); NaN past 34 digits. */
export function decimalQuantize(value: DecimalValue, place: number, mode: DecimalRounding): DecimalValue {
  if (value.kind !== 'finite') return value;
  const target = -place;
  if (value.exponent >= target) {
    const coefficient = value.coefficient * pow10(value.exponent - target);
    return digitCount(coefficient) > PRECISION ? NAN : { ...value, coefficient, exponent: target };
  }
  const coefficient = dropDigits(value.coefficient, target - value.exponent, mode, value.negative);
  return digitCount(coefficient) > PRECISION ? NAN : { ...value, coefficient, exponent: target };
}

/** `$ceil`/`$floor` of a decimal: an integral value, the exponent raised to 0 only when below it. */
export function decimalToIntegral(value: DecimalValue, mode: DecimalRounding): DecimalValue {
  if (value.kind !== 'finite' || value.exponent >= 0) return value;
  return {
    ...value,
    coefficient: dropDigits(value.coefficient, -value.exponent, mode, value.negative),
    exponent: 0,
  };
}

export function isDecimalZero(value: DecimalValue): boolean {
  return value.kind === 'finite' && value.coefficient === 0n;
}
