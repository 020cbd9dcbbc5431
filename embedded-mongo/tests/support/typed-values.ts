import { Decimal128, Double, Int32, Long, type Document } from 'mongodb';

/** Read options under which the driver hands back exactly the BSON types the server sent. */
export const RAW = { promoteValues: false, promoteLongs: false, bsonRegExp: true } as const;

/** A value as `type:text`, so that int 7, long 7, double 7.0 and decimal 7 read differently in assertions. */
export function typed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(typed);
  if (value instanceof Int32) return `int:${value.value}`;
  if (value instanceof Double) return `double:${Object.is(value.value, -0) ? '-0' : String(value.value)}`;
  if (value instanceof Long) return `long:${value.toString()}`;
  if (value instanceof Decimal128) return `decimal:${value.toString()}`;
  if (value !== null && typeof value === 'object' && value.constructor === Object) {
    const out: Document = {};
    for (const [key, field] of Object.entries(value)) out[key] = typed(field);
    return out;
  }
  return value;
}
