import type { Document } from 'bson';

import { numericKind, toJsNumber } from './bson-numbers.js';
import { ErrorCode, MongoServerError } from './errors.js';

/** BSON type names as `$type` reports them, with their numeric codes. */
const TYPE_CODES = {
  double: 1,
  string: 2,
  object: 3,
  array: 4,
  binData: 5,
  undefined: 6,
  objectId: 7,
  bool: 8,
  date: 9,
  null: 10,
  regex: 11,
  dbPointer: 12,
  javascript: 13,
  symbol: 14,
  javascriptWithScope: 15,
  int: 16,
  timestamp: 17,
  long: 18,
  decimal: 19,
  minKey: -1,
  maxKey: 127,
} as const;

export type BsonTypeName = keyof typeof TYPE_CODES;

const NAME_OF_CODE = new Map<number, BsonTypeName>(
  Object.entries(TYPE_CODES).map(([name, code]) => [code, name as BsonTypeName]),
);

const TAGGED_TYPES: Record<string, BsonTypeName> = {
  ObjectId: 'objectId',
  Binary: 'binData',
  Timestamp: 'timestamp',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  BSONRegExp: 'regex',
  BSONSymbol: 'symbol',
  DBPointer: 'dbPointer',
  DBRef: 'object',
};

/** The BSON type of a value as stored, undefined when it is missing. */
export function bsonTypeName(value: unknown): BsonTypeName | undefined {
  if (value === undefined) return undefined;
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return numericKind(value) as BsonTypeName;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  if (ArrayBuffer.isView(value)) return 'binData';
  const tag = (value as { _bsontype?: unknown })._bsontype;
  if (typeof tag !== 'string') return 'object';
  const kind = numericKind(value);
  if (kind) return kind;
  if (tag === 'Code') return (value as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
  return TAGGED_TYPES[tag] ?? 'object';
}

/** The type name mongod's messages give a value ("… but found int"); an absent value is "missing". */
export function typeNameOf(value: unknown): string {
  return bsonTypeName(value) ?? 'missing';
}

/** A plain embedded document: not an array, date or other BSON value. */
export function isDocument(value: unknown): value is Document {
  return bsonTypeName(value) === 'object';
}

/** True for a number of any BSON numeric type. */
export function isNumeric(value: unknown): boolean {
  return numericKind(value) !== undefined;
}

/** The number a numeric BSON value holds (a long beyond 2^53 or a decimal rounded), else undefined. */
export function numericValue(value: unknown): number | undefined {
  return numericKind(value) === undefined ? undefined : toJsNumber(value);
}

/** A set of types a `$type` operand names: a name, the alias "number", a code, or an array of those. */
export function typeSetOf(operand: unknown): ReadonlySet<BsonTypeName | 'number'> {
  const names = new Set<BsonTypeName | 'number'>();
  const items = Array.isArray(operand) ? operand : [operand];
  for (const item of items) {
    if (typeof item === 'string') {
      if (item !== 'number' && !Object.hasOwn(TYPE_CODES, item))
        throw new MongoServerError(ErrorCode.BadValue, `Unknown type name alias: ${item}`);
      names.add(item as BsonTypeName | 'number');
      continue;
    }
    const kind = numericKind(item);
    const code = kind === 'int' || kind === 'long' || kind === 'double' ? toJsNumber(item) : Number.NaN;
    const name = Number.isInteger(code) ? NAME_OF_CODE.get(code) : undefined;
    if (!name) {
      throw new MongoServerError(
        kind ? ErrorCode.BadValue : ErrorCode.TypeMismatch,
        kind
          ? `Invalid numerical type code: ${String(item)}`
          : 'type must be represented as a number or a string',
      );
    }
    names.add(name);
  }
  return names;
}

const NUMERIC_NAMES = new Set<string>(['int', 'long', 'double', 'decimal']);

/** True when a value (not looking into arrays) has one of the types. */
export function hasTypeIn(value: unknown, types: ReadonlySet<BsonTypeName | 'number'>): boolean {
  const name = bsonTypeName(value);
  if (name === undefined) return false;
  return types.has(name) || (types.has('number') && NUMERIC_NAMES.has(name));
}

/** mongod's canonical order of BSON types in comparisons and sorts (numbers are one class, strings and symbols another). */
const TYPE_ORDER: Record<BsonTypeName, number> = {
  minKey: 1,
  undefined: 2,
  null: 2,
  int: 3,
  long: 3,
  double: 3,
  decimal: 3,
  string: 4,
  symbol: 4,
  object: 5,
  array: 6,
  binData: 7,
  objectId: 8,
  bool: 9,
  date: 10,
  timestamp: 11,
  regex: 12,
  dbPointer: 13,
  javascript: 14,
  javascriptWithScope: 15,
  maxKey: 16,
};

/** Where a value's type falls in mongod's canonical type order; a missing value sorts as null. */
export function typeOrderOf(value: unknown): number {
  return TYPE_ORDER[bsonTypeName(value) ?? 'null'];
}
