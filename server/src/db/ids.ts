import { Types } from 'mongoose';

const HEX_ID = /^[0-9a-f]{24}$/i;

function asObjectId(id: string | Types.ObjectId): Types.ObjectId | undefined {
  if (id instanceof Types.ObjectId) return id;
  return HEX_ID.test(id) ? new Types.ObjectId(id) : undefined;
}

/**
 * Whether two ids name the same record, compared as ObjectIds: `ABC…` and `abc…` are one id. Rules that
 * hinge on "is this me" (self-protection, ownership) use it rather than string equality.
 */
export function sameId(
  a: string | Types.ObjectId | null | undefined,
  b: string | Types.ObjectId | null | undefined,
): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  const left = asObjectId(a);
  const right = asObjectId(b);
  return left !== undefined && right !== undefined && left.equals(right);
}
