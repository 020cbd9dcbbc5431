import { Decimal128 } from 'bson';

import { INT32_MAX, INT32_MIN, numericKind, toBigInt, toJsNumber, toStoredDouble } from './bson-numbers.js';
import { MongoSum } from './double-summation.js';
import { quotient } from './numeric-arithmetic.js';

/**
 * The running sum and mean mongod's window functions build on (`RemovableSum`, `WindowFunctionAvg` in
 * src/mongo/db/pipeline/window_function, over `AccumulatorSum`'s double-double sum): NaN and infinities are counted apart from the finite total, the
 * answer is a decimal when any input was one, and an integral total narrows to an int when it fits.
 */

type NonFinite = 'nan' | 'positive' | 'negative';

/** Whether a number is NaN or an infinity (of any BSON type), undefined for finite numbers. */
export function nonFiniteKind(value: unknown): NonFinite | undefined {
  const kind = numericKind(value);
  if (kind !== 'double' && kind !== 'decimal') return undefined;
  const number = kind === 'double' ? toJsNumber(value) : Number((value as Decimal128).toString());
  if (Number.isNaN(number)) return 'nan';
  if (number === Number.POSITIVE_INFINITY) return 'positive';
  if (number === Number.NEGATIVE_INFINITY) return 'negative';
  return undefined;
}

/** NaN or an infinity as a decimal when decimals took part, else as a double. */
export function nonFiniteValue(which: NonFinite, decimal: boolean): unknown {
  const text = which === 'nan' ? 'NaN' : which === 'positive' ? 'Infinity' : '-Infinity';
  return decimal ? Decimal128.fromString(text) : Number(text);
}

export class WindowSum {
  /** The finite numbers' sum. */
  private readonly total = new MongoSum();
  private nans = 0;
  private positives = 0;
  private negatives = 0;
  private decimals = 0;

  /** Adds a number; anything else is ignored, as mongod ignores it. */
  add(value: unknown): void {
    const kind = numericKind(value);
    if (kind === undefined) return;
    if (kind === 'decimal') this.decimals += 1;
    const special = nonFiniteKind(value);
    if (special === 'nan') this.nans += 1;
    else if (special === 'positive') this.positives += 1;
    else if (special === 'negative') this.negatives += 1;
    else this.total.add(value);
  }

  value(): unknown {
    const decimal = this.decimals > 0;
    if (this.nans > 0 || (this.positives > 0 && this.negatives > 0)) return nonFiniteValue('nan', decimal);
    if (this.positives > 0) return nonFiniteValue('positive', decimal);
    if (this.negatives > 0) return nonFiniteValue('negative', decimal);
    const total = this.total.value();
    if (numericKind(total) === 'long') {
      const big = toBigInt(total);
      if (big >= BigInt(INT32_MIN) && big <= BigInt(INT32_MAX)) return Number(big);
    }
    return total;
  }
}

/** The mean of the numbers added: a double, or a decimal when a decimal was added; null before any. */
export class WindowMean {
  private readonly sum = new WindowSum();
  private count = 0;

  add(value: unknown): void {
    if (numericKind(value) === undefined) return;
    this.sum.add(value);
    this.count += 1;
  }

  value(): unknown {
    if (this.count === 0) return null;
    const sum = this.sum.value();
    if (nonFiniteKind(sum) !== undefined) return sum;
    if (numericKind(sum) === 'decimal') return quotient(sum, this.count);
    return toStoredDouble(toJsNumber(sum) / this.count);
  }
}
