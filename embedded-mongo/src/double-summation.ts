import {
  INT32_MAX,
  INT32_MIN,
  numericKind,
  toBigInt,
  toJsNumber,
  toStoredDouble,
  toStoredLong,
  type NumericKind,
} from './bson-numbers.js';
import {
  decimalAdd,
  decimalDivide,
  decimalOf,
  decimalOfDouble34,
  encode,
  type DecimalValue,
} from './decimal128-arithmetic.js';
import { widest } from './numeric-arithmetic.js';

/**
 * How mongod adds numbers in `$sum` and `$avg` (accumulators, their expression forms and the window
 * functions built on them): ints, longs and doubles go into a double-double running sum
 * (`DoubleDoubleSummation`, src/mongo/util/summation.h) whose error term keeps what a plain double sum
 * would round away, so `[1e16, 1, 1, 1, 1]` sums to 10000000000000004 and ten 0.1s to exactly 1;
 * decimals are summed apart in decimal128 and the two totals meet at the end (`AccumulatorSum`).
 */

const TWO_TO_32 = 2n ** 32n;
const TWO_TO_63 = 2 ** 63;

/** C's `llround` for a double that fits a long: to the nearest integer, halves away from zero. */
function roundHalfAway(value: number): bigint {
  return BigInt(Math.sign(value) * Math.round(Math.abs(value)));
}

export class DoubleDoubleSummation {
  /** The double nearest the running sum. */
  private sum = 0;
  /** What the sum lacks for full precision (much smaller than `sum`). */
  private addend = 0;
  /** A plain sum, the answer once the compensated sum turned NaN (an infinity met another). */
  private special = 0;

  addDouble(value: number): void {
    this.special += value;
    // Fast2Sum(value, addend): the addend is the tinier.
    const first = value + this.addend;
    this.addend -= first - value;
    // 2Sum(sum, first): either may be the larger.
    const total = this.sum + first;
    const sumPart = total - first;
    const firstPart = total - sumPart;
    const lost = this.sum - sumPart + (first - firstPart);
    this.sum = total;
    this.addend += lost;
  }

  /** A long split in two doubles (its high 32 bits, the rest) that each hold their part exactly. */
  addLong(value: bigint): void {
    const high = (value / TWO_TO_32) * TWO_TO_32;
    this.addDouble(Number(value - high));
    this.addDouble(Number(high));
  }

  getDouble(): number {
    return Number.isNaN(this.sum) ? this.special : this.sum;
  }

  /** `Decimal128(sum, 34 digits) + Decimal128(addend, 34 digits)`, or the plain sum when not finite. */
  getDecimal(): DecimalValue {
    if (!Number.isFinite(this.sum)) return decimalOfDouble34(this.special);
    return decimalAdd(decimalOfDouble34(this.sum), decimalOfDouble34(this.addend));
  }

  /** Whether the sum rounds to an integer in the long range. */
  fitsLong(): boolean {
    if (this.sum > -TWO_TO_63 && this.sum < TWO_TO_63) return true;
    if (this.sum === TWO_TO_63) return this.addend < -0.5;
    if (this.sum === -TWO_TO_63) return this.addend >= -0.5;
    return false;
  }

  /** The sum rounded to the nearest integer, halves away from zero; only when `fitsLong()`. */
  getLong(): bigint {
    if (this.sum === TWO_TO_63) return roundHalfAway(this.addend) + 2n ** 63n;
    const rounded = roundHalfAway(this.sum);
    return rounded + roundHalfAway(this.sum - Number(rounded) + this.addend);
  }
}

/** mongod's `AccumulatorSum`: the sum typed as the widest input (int widens to long, then double). */
export class MongoSum {
  private kind: NumericKind = 'int';
  private readonly nonDecimal = new DoubleDoubleSummation();
  /** `Decimal128()`: zero with exponent 0. */
  private decimalTotal: DecimalValue = { kind: 'finite', negative: false, coefficient: 0n, exponent: 0 };
  private decimals = false;

  /** Adds a number; anything else is ignored, as mongod ignores it. */
  add(value: unknown): void {
    const kind = numericKind(value);
    if (kind === undefined) return;
    this.kind = widest(this.kind, kind);
    switch (kind) {
      case 'int':
        this.nonDecimal.addDouble(toJsNumber(value));
        break;
      case 'long':
        this.nonDecimal.addLong(toBigInt(value));
        break;
      case 'double':
        this.nonDecimal.addDouble(toJsNumber(value));
        break;
      default:
        this.decimals = true;
        this.decimalTotal = decimalAdd(this.decimalTotal, decimalOf(value));
    }
  }

  /** Whether a decimal was added (the answer is then a decimal). */
  hasDecimal(): boolean {
    return this.decimals;
  }

  /** The total of every number added, decimal-typed when a decimal took part. */
  decimalValue(): DecimalValue {
    return decimalAdd(this.decimalTotal, this.nonDecimal.getDecimal());
  }

  /** The nearest double to the total of the ints, longs and doubles. */
  doubleValue(): number {
    return this.nonDecimal.getDouble();
  }

  value(): unknown {
    if (this.kind === 'decimal') return encode(this.decimalValue());
    if ((this.kind === 'int' || this.kind === 'long') && this.nonDecimal.fitsLong()) {
      const total = this.nonDecimal.getLong();
      if (this.kind === 'int' && total >= BigInt(INT32_MIN) && total <= BigInt(INT32_MAX))
        return Number(total);
      return toStoredLong(total);
    }
    return toStoredDouble(this.nonDecimal.getDouble());
  }
}

/** mongod's `AccumulatorAvg`: a double (the double-double total over the count), or a decimal. */
export class MongoMean {
  private readonly sum = new MongoSum();
  private count = 0;

  add(value: unknown): void {
    if (numericKind(value) === undefined) return;
    this.sum.add(value);
    this.count += 1;
  }

  value(): unknown {
    if (this.count === 0) return null;
    if (this.sum.hasDecimal())
      return encode(
        decimalDivide(this.sum.decimalValue(), {
          kind: 'finite',
          negative: false,
          coefficient: BigInt(this.count),
          exponent: 0,
        }),
      );
    return toStoredDouble(this.sum.doubleValue() / this.count);
  }
}

/** The `$sum` of the numbers among values. */
export function mongoSumOf(values: Iterable<unknown>): unknown {
  const sum = new MongoSum();
  for (const value of values) sum.add(value);
  return sum.value();
}

/** The `$avg` of the numbers among values; null when there are none. */
export function mongoMeanOf(values: Iterable<unknown>): unknown {
  const mean = new MongoMean();
  for (const value of values) mean.add(value);
  return mean.value();
}
