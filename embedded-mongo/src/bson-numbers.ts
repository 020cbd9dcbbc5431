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

/** Bytes a value of each fixed-size BSON element type takes. */
const FIXED_SIZES: Partial<Record<number, number>> = {
  0x06: 0, // undefined
  0x07: 12, // ObjectId
  0x08: 1, // boolean
  0x09: 8, // date
  0x0a: 0, // null
  0x10: 4, // int32
  0x11: 8, // timestamp
  0x12: 8, // int64
  0x13: 16, // decimal128
  0x7f: 0, // maxKey
  0xff: 0, // minKey
};

/**
 * True unless a scan of the raw BSON proves no double in it would read back as an int32 once promoted
 * (an integral double in int32 range): only those need the slower wrapper-preserving decode. Anything
 * unexpected answers true, and the full decoder then validates the bytes.
 */
export function mayHoldIntegralDouble(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let offset = 4;
  while (offset < end) {
    const type = bytes[offset] as number;
    offset += 1;
    if (type === 0) continue; // the end of a document or array
    const nameEnd = bytes.indexOf(0, offset);
    if (nameEnd < 0) return true;
    offset = nameEnd + 1;
    if (type === 0x01) {
      if (offset + 8 > end) return true;
      if (isInt32Number(view.getFloat64(offset, true))) return true;
      offset += 8;
    } else if (type === 0x03 || type === 0x04) {
      offset += 4; // an embedded document or array: its elements follow
    } else if (type === 0x02 || type === 0x0d || type === 0x0e || type === 0x05) {
      // A string (code, symbol) or binary: its length, (a subtype byte,) its bytes. A negative length
      // would move the scan backwards: the full decoder refuses such bytes.
      if (offset + 4 > end) return true;
      const length = view.getInt32(offset, true);
      if (length < 0) return true;
      offset += (type === 0x05 ? 5 : 4) + length;
    } else if (type === 0x0f) {
      return true; // code with scope: its scope document may hold doubles
    } else {
      const size = FIXED_SIZES[type];
      if (size === undefined) return true;
      offset += size;
    }
  }
  return offset !== end;
}

const FAST_READ_OPTIONS = { promoteLongs: false, promoteValues: true, promoteBuffers: false } as const;

type ExtraReadOptions = Omit<BSON.DeserializeOptions, keyof typeof typePreservingReadOptions>;

/**
 * A deserializer keeping every numeric type, in the in-memory form. Documents without integral doubles
 * (nearly all) decode promoted, which is already that form (longs stay `Long`, decimals `Decimal128`);
 * the others decode with wrappers and are normalised.
 */
export function typePreservingDeserializer(options: ExtraReadOptions = {}): (buffer: Uint8Array) => Document {
  const fast = { ...options, ...FAST_READ_OPTIONS };
  const wrapped = { ...options, ...typePreservingReadOptions };
  return (buffer) =>
    mayHoldIntegralDouble(buffer)
      ? normaliseNumbers(BSON.deserialize(buffer, wrapped))
      : BSON.deserialize(buffer, fast);
}
