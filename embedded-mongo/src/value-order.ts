import { compare } from 'mingo/util';

// Installs the engine's exact comparison of decimals with other numbers.
import './exact-numbers.js';

/**
 * MongoDB's cross-type ordering of two values: natively within numbers, strings and dates (the hot
 * cases of sorts, ranges and index order), else the query engine's own comparison.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  // NaN sorts below every number in MongoDB: the engine's comparison knows that.
  if (typeof a === 'number' && typeof b === 'number' && !Number.isNaN(a) && !Number.isNaN(b))
    return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  return compare(a as never, b as never);
}
