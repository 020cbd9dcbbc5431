import { Decimal128, Double, Long, ObjectId, type Document } from 'bson';
import { numericUpdate } from 'mingo/util';

import { numericKind, toJsNumber } from './bson-numbers.js';
import { bsonTypeName } from './bson-types.js';
import { ErrorCode, MongoServerError } from './errors.js';
import { productOf, sumOf } from './numeric-arithmetic.js';

/** True when two numbers are the same value of the same BSON type (the update changes nothing). */
function sameNumber(a: unknown, b: unknown): boolean {
  const kind = numericKind(a);
  if (kind === undefined || kind !== numericKind(b)) return false;
  if (kind === 'decimal') return (a as Decimal128).toString() === (b as Decimal128).toString();
  if (kind === 'long') return (a as Long).equals(b as Long);
  return Object.is(toJsNumber(a), toJsNumber(b));
}

function idText(id: unknown): string {
  if (id instanceof ObjectId) return `ObjectId('${id.toHexString()}')`;
  if (typeof id === 'string') return JSON.stringify(id);
  return String(typeof id === 'object' && numericKind(id) ? toJsNumber(id) : id);
}

function assertNumeric(operator: string, current: unknown, field: string, doc: unknown): void {
  if (numericKind(current) !== undefined) return;
  throw new MongoServerError(
    ErrorCode.TypeMismatch,
    `Cannot apply ${operator} to a value of non-numeric type. {_id: ${idText((doc as Document | null)?._id)}} has the field '${field}' of non-numeric type ${bsonTypeName(current) ?? 'missing'}`,
  );
}

/** Zero of a number's type, what `$mul` writes to a missing field. */
function zeroLike(value: unknown): unknown {
  switch (numericKind(value)) {
    case 'long':
      return Long.ZERO;
    case 'double':
      return new Double(0);
    case 'decimal':
      return Decimal128.fromString('0');
    default:
      return 0;
  }
}

/**
 * `$inc` and `$mul` with mongod's result types: a missing field takes the operand (or its type's zero),
 * int overflow widens to long, long overflow to double, and a no-op keeps the very same value.
 */
export function installNumericUpdates(): void {
  numericUpdate.inc = (current, operand, field, doc) => {
    if (current === undefined) return operand;
    assertNumeric('$inc', current, field, doc);
    const next = sumOf([current, operand]);
    return sameNumber(next, current) ? current : next;
  };
  numericUpdate.mul = (current, operand, field, doc) => {
    if (current === undefined) return zeroLike(operand);
    assertNumeric('$mul', current, field, doc);
    const next = productOf([current, operand]);
    return sameNumber(next, current) ? current : next;
  };
}
