import { BSON, Double, Long, type Decimal128, type Document } from 'bson';

/**
 * How numbers are held in memory, so that every BSON numeric type round-trips exactly at no cost for the
 * common documents:
 * - a JS number stands for what bson writes back identically: an int32-range integer is an int32; any
 *   other number (fractions, beyond int32, NaN, ±Infinity, -0) is a double;
 * - a `Double` object holds only the doubles bson would otherwise write as int32 (integral, in int32
 *   range, not -0), a `Long` every int64 and a `Decimal128` every decimal.
 * Decoding asks bson for wrappers (`promoteValues: false`) and `normaliseNumbers` turns each one into this
 * form in the same pass over the document; replies serialize the stored values as they are.
 */
export type NumericKind = 'int' | 'long' | 'double' | 'decimal';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Options for reading BSON (wire and journal) that keep every numeric type apart. */
export const typePreservingReadOptions = {
  promoteLongs: false,
  promoteValues: false,
  promoteBuffers: false,
} as const;

export function isInt32Number(value: number): boolean {
  return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX && !Object.is(value, -0);
}

/** The BSON numeric type of a value, undefined for anything that is not a number. */
export function numericKind(value: unknown): NumericKind | undefined {
  if (typeof value === 'number') return isInt32Number(value) ? 'int' : 'double';
  if (value === null || typeof value !== 'object') return undefined;
  switch ((value as { _bsontype?: unknown })._bsontype) {
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'Int32':
      return 'int';
    default:
      return undefined;
  }
}

/** True for values whose in-memory form is an object (Double, Long, Decimal128, Int32). */
export function isNumberObject(value: unknown): value is Double | Long | Decimal128 {
  const kind = numericKind(value);
  return kind !== undefined && typeof value === 'object';
}

/** A double as stored: a plain number unless bson would write that number as an int32. */
export function toStoredDouble(value: number): number | Double {
  return isInt32Number(value) ? new Double(value) : value;
}

/** An int64 as stored. */
export function toStoredLong(value: bigint): Long {
  return Long.fromBigInt(value);
}

/** The value of a number of any kind as a JS number (a long beyond 2^53 or a decimal is rounded). */
export function toJsNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  switch ((value as { _bsontype?: unknown } | null)?._bsontype) {
    case 'Double':
    case 'Int32':
      return (value as Double).value;
    case 'Long':
      return (value as Long).toNumber();
    case 'Decimal128':
      return Number((value as Decimal128).toString());
    default:
      return Number.NaN;
  }
}

/** The exact value of an int or long. */
export function toBigInt(value: unknown): bigint {
  if (typeof value === 'number') return BigInt(value);
  if ((value as { _bsontype?: unknown })._bsontype === 'Long') return (value as Long).toBigInt();
  return BigInt((value as Double).value);
}

function normaliseValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      if (item !== null && typeof item === 'object') value[index] = normaliseValue(item);
    }
    return value;
  }
  const type = (value as { _bsontype?: unknown })._bsontype;
  if (type === undefined) {
    normaliseNumbers(value as Document);
    return value;
  }
  if (type === 'Int32') return (value as { value: number }).value;
  if (type === 'Double') {
    const number = (value as Double).value;
    return isInt32Number(number) ? value : number;
  }
  return value;
}

/** Brings a document decoded with `typePreservingReadOptions` into the in-memory form, in place. */
export function normaliseNumbers(doc: Document): Document {
  for (const key of Object.keys(doc)) {
    const value: unknown = doc[key];
    if (value === null || typeof value !== 'object') continue;
    const normal = normaliseValue(value);
    if (normal === value) continue;
    // Defined, not assigned: a field named `__proto__` stays a field.
    Object.defineProperty(doc, key, { value: normal, enumerable: true, writable: true, configurable: true });
  }
  return doc;
}

/** Deserializes one BSON document keeping every numeric type, in the in-memory form. */
export function deserializeKeepingTypes(
  buffer: Uint8Array,
  options: Omit<BSON.DeserializeOptions, keyof typeof typePreservingReadOptions> = {},
): Document {
  return normaliseNumbers(BSON.deserialize(buffer, { ...options, ...typePreservingReadOptions }));
}
