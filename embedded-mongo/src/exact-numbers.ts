import type { Decimal128, Double, Long } from 'bson';
import { Decimal } from 'decimal.js';
import { numericCompare } from 'mingo/util';

import { numericKind, toBigInt, toJsNumber } from './bson-numbers.js';

/**
 * mongod compares a decimal with any other number by exact value: Decimal128("0.1") is not the double 0.1
 * (0.1000000000000000055511151231257827…), Decimal128("1.0") is int 1. These helpers give every number its
 * exact value, and equal values of any type one key.
 */

const doubleBits = new DataView(new ArrayBuffer(8));

/** The exact decimal expansion of a finite double (at most 1074 fraction digits, never an exponent). */
export function exactDoubleString(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString();
  doubleBits.setFloat64(0, value);
  const bits = doubleBits.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  // value = ±mantissa / 2^shift = ±mantissa × 5^shift / 10^shift; shift > 0 for a non-integer.
  const shift = 1075 - (exponentBits === 0 ? 1 : exponentBits);
  const digits = (mantissa * 5n ** BigInt(shift)).toString().padStart(shift + 1, '0');
  const text = `${digits.slice(0, -shift)}.${digits.slice(-shift)}`.replace(/0+$/, '');
  return bits >> 63n === 1n ? `-${text}` : text;
}

/** The exact value of a number of any BSON type (never rounded: the constructor keeps every digit). */
export function exactValue(value: unknown): Decimal {
  switch (numericKind(value)) {
    case 'decimal':
      return new Decimal((value as Decimal128).toString());
    case 'double': {
      const number = toJsNumber(value);
      return Number.isFinite(number) ? new Decimal(exactDoubleString(number)) : new Decimal(number);
    }
    default:
      return new Decimal(toBigInt(value).toString());
  }
}

/** MongoDB's order of two numbers by exact value; NaN equals NaN and sorts below every other number. */
export function compareExactly(a: unknown, b: unknown): number {
  const x = exactValue(a);
  const y = exactValue(b);
  if (x.isNaN() || y.isNaN()) return x.isNaN() ? (y.isNaN() ? 0 : -1) : 1;
  return x.cmp(y);
}

numericCompare.decimal = compareExactly;

/** The double a decimal equals exactly (NaN and ±Infinity included), undefined when no double does. */
export function decimalAsDouble(value: Decimal128): number | undefined {
  const text = value.toString();
  const number = Number(text);
  if (!Number.isFinite(number)) return number;
  return new Decimal(exactDoubleString(number)).eq(new Decimal(text)) ? number : undefined;
}

/**
 * A number object's value as a JS number when one holds it exactly, else `D` and the value's normalised
 * exact digits (a string no number's key can be): equal values of any type give the same answer.
 */
export function exactNumberSlot(value: Double | Long | Decimal128): number | string {
  switch (value._bsontype) {
    case 'Long': {
      const big = value.toBigInt();
      const number = Number(big);
      return BigInt(number) === big ? number : `D${big}`;
    }
    case 'Decimal128':
      return decimalAsDouble(value) ?? `D${new Decimal(value.toString()).toString()}`;
    default:
      return value.value;
  }
}

/** The lookup key of a Long or Decimal128, the same as an equal double's or int's (`n` and its digits). */
export function wideNumberKey(value: Long | Decimal128): string {
  const slot = exactNumberSlot(value);
  if (typeof slot === 'string') return slot;
  return Object.is(slot, -0) ? 'n0' : `n${slot}`;
}
