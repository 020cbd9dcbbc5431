import { Decimal128, Double, Long, ObjectId, type Document } from 'bson';
import { numericUpdate } from 'mingo/util';

import { numericKind, toBigInt, toJsNumber, toStoredLong } from './bson-numbers.js';
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
  numericUpdate.bitSpec = checkBitSpec;
  numericUpdate.bit = applyBitOperations;
}

const BIT_FORMAT = '{$bit: {field: {and/or/xor: #}}';

/** An operand as mongod prints a BSON element's value in $bit messages (`1.0` for an integral double). */
function shownOperand(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  const kind = numericKind(value);
  if (kind === 'double' && Number.isInteger(toJsNumber(value))) return `${toJsNumber(value)}.0`;
  if (kind === 'long') return `${toBigInt(value)}`;
  if (kind) return String(kind === 'decimal' ? (value as Decimal128).toString() : toJsNumber(value));
  return String(value);
}

/** The checks of `$bit: {field: {and|or|xor: int or long, ...}}` (mongod's BitNode::init). */
function checkBitSpec(spec: unknown): void {
  for (const operations of Object.values(spec as Document)) {
    if (bsonTypeName(operations) !== 'object')
      throw new MongoServerError(
        ErrorCode.BadValue,
        `The $bit modifier is not compatible with a ${bsonTypeName(operations) ?? 'missing'}. You must pass in an embedded document: ${BIT_FORMAT}`,
      );
    const entries = Object.entries(operations as Document);
    for (const [name, operand] of entries) {
      if (name !== 'and' && name !== 'or' && name !== 'xor')
        throw new MongoServerError(
          ErrorCode.BadValue,
          `The $bit modifier only supports 'and', 'or', and 'xor', not '${name}' which is an unknown operator: {${name}: ${shownOperand(operand)}}`,
        );
      const kind = numericKind(operand);
      if (kind !== 'int' && kind !== 'long')
        throw new MongoServerError(
          ErrorCode.BadValue,
          `The $bit modifier field must be an Integer(32/64 bit); a '${bsonTypeName(operand) ?? 'missing'}' is not supported here: {${name}: ${shownOperand(operand)}}`,
        );
    }
    if (entries.length === 0)
      throw new MongoServerError(
        ErrorCode.BadValue,
        `You must pass in at least one bitwise operation. The format is: ${BIT_FORMAT}`,
      );
  }
}

/**
 * `$bit` on an int or long field (a missing one starts from int 0): the operations apply in order, an
 * int stays an int with int operands and becomes a long with a long one; any other field is refused.
 */
function applyBitOperations(current: unknown, operations: unknown, field: string, doc: unknown): unknown {
  const kind = current === undefined ? 'int' : numericKind(current);
  if (kind !== 'int' && kind !== 'long')
    throw new MongoServerError(
      ErrorCode.BadValue,
      `Cannot apply $bit to a value of non-integral type._id: ${idText((doc as Document | null)?._id)} has the field ${field} of non-integer type ${bsonTypeName(current) ?? 'missing'}`,
    );
  let long = kind === 'long';
  let value = current === undefined ? 0n : toBigInt(current);
  for (const [name, operand] of Object.entries(operations as Document)) {
    long ||= numericKind(operand) === 'long';
    const other = toBigInt(operand);
    value = name === 'and' ? value & other : name === 'or' ? value | other : value ^ other;
  }
  const next = long ? toStoredLong(BigInt.asIntN(64, value)) : Number(BigInt.asIntN(32, value));
  return current !== undefined && sameNumber(next, current) ? current : next;
}
