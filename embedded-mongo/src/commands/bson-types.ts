/** BSON type names and numeric reads as mongod reports them, for values decoded from the wire. */

const WRAPPER_TYPE_NAMES: Record<string, string> = {
  ObjectId: 'objectId',
  ObjectID: 'objectId',
  Binary: 'binData',
  UUID: 'binData',
  Long: 'long',
  Int32: 'int',
  Double: 'double',
  Decimal128: 'decimal',
  Timestamp: 'timestamp',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  BSONSymbol: 'symbol',
  Symbol: 'symbol',
  BSONRegExp: 'regex',
  DBRef: 'object',
};

const NUMERIC_WRAPPERS = new Set(['Long', 'Int32', 'Double', 'Decimal128']);

function wrapperType(value: object): string | undefined {
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** The name mongod's `typeName()` gives the value's BSON type. */
export function bsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647 ? 'int' : 'double';
    case 'bigint':
      return 'long';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'object':
      break;
    default:
      return 'object';
  }
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  if (value instanceof Uint8Array) return 'binData';
  const tag = wrapperType(value);
  if (tag === 'Code') return (value as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
  return (tag && WRAPPER_TYPE_NAMES[tag]) ?? 'object';
}

export function isNumeric(value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'bigint') return true;
  if (value === null || typeof value !== 'object') return false;
  const tag = wrapperType(value);
  return tag !== undefined && NUMERIC_WRAPPERS.has(tag);
}

/** The value of a numeric BSON value as a JavaScript number (a long beyond 2^53 loses precision). */
export function numericValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value !== null && typeof value === 'object') {
    const tag = wrapperType(value);
    if (tag === 'Long') return (value as { toNumber(): number }).toNumber();
    if (tag === 'Decimal128') return Number(String(value));
    if (tag === 'Int32' || tag === 'Double') return Number((value as { valueOf(): number }).valueOf());
  }
  return Number.NaN;
}

/** True for a plain embedded document (not an array, date or other BSON value). */
export function isDocument(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if (value instanceof Date || value instanceof RegExp || value instanceof Uint8Array) return false;
  const tag = wrapperType(value);
  return tag === undefined || tag === 'DBRef';
}
