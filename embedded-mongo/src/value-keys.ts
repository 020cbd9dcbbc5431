import type { Decimal128, Long } from 'bson';

import { wideNumberKey } from './exact-numbers.js';

/**
 * Canonical string keys for BSON values, used to look documents up by `_id` and by index keys.
 * Two values get the same key exactly when MongoDB's index treats them as equal (1 and 1.0, say).
 */
interface BsonTagged {
  _bsontype: string;
  toString(encoding?: string): string;
}

function isBsonTagged(value: object): value is BsonTagged {
  return typeof (value as { _bsontype?: unknown })._bsontype === 'string';
}

export function valueKey(value: unknown): string {
  if (value === null || value === undefined) return 'N';
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? 'n0' : `n${value}`;
    case 'bigint':
      return `n${value.toString()}`;
    case 'string':
      return `s${JSON.stringify(value)}`;
    case 'boolean':
      return value ? 'b1' : 'b0';
    case 'object':
      return objectKey(value);
    default:
      return `?${String(value)}`;
  }
}

function objectKey(value: object): string {
  if (value instanceof Date) return `d${value.getTime()}`;
  if (Array.isArray(value)) return `[${value.map(valueKey).join(',')}]`;
  if (value instanceof RegExp) return `r${value.source}/${value.flags}`;
  if (isBsonTagged(value)) {
    switch (value._bsontype) {
      case 'ObjectId':
        return `o${value.toString('hex')}`;
      // Numbers of every type share one key space: int 7, long 7 and double 7.0 are one key.
      case 'Int32':
      case 'Double':
        return `n${value.toString()}`;
      case 'Long':
      case 'Decimal128':
        return wideNumberKey(value as unknown as Long | Decimal128);
      case 'Binary':
        return `x${value.toString('base64')}`;
      default:
        return `${value._bsontype}:${value.toString()}`;
    }
  }
  const parts: string[] = [];
  for (const [key, field] of Object.entries(value)) parts.push(`${JSON.stringify(key)}:${valueKey(field)}`);
  return `{${parts.join(',')}}`;
}

/** True for values an equality lookup in an index can answer alone (no arrays, documents or regexes). */
export function isIndexableScalar(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value !== 'object') return true;
  if (value instanceof Date) return true;
  if (!isBsonTagged(value)) return false;
  const type = value._bsontype;
  return type === 'ObjectId' || type === 'Long' || type === 'Double' || type === 'Int32';
}
