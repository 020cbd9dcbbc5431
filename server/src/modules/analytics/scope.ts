import { Types } from 'mongoose';

import { sameId } from '../../db/ids.js';
import { Forbidden } from '../../domain-errors.js';
import type { AuthenticatedUser } from '../auth/session-service.js';

/** Whose data an analytics call reads: one owner, or everyone (admins). */
export interface AnalyticsScope {
  /** The owner; undefined for the whole system. */
  ownerId: Types.ObjectId | undefined;
}

/** The caller's own data unless an admin names a user or asks for the whole system. */
export function scopeOf(
  caller: AuthenticatedUser,
  input: { userId?: string | undefined; all?: boolean | undefined },
): AnalyticsScope {
  const isAdmin = caller.roles.includes('admin');
  if (input.all) {
    if (!isAdmin) throw new Forbidden('Only admins may read analytics of the whole system');
    return { ownerId: undefined };
  }
  if (input.userId && !sameId(input.userId, caller.id)) {
    if (!isAdmin) throw new Forbidden("Only admins may read another user's analytics");
    return { ownerId: new Types.ObjectId(input.userId) };
  }
  return { ownerId: new Types.ObjectId(caller.id) };
}

/** The filter that keeps the scope's documents. */
export function ownedBy(scope: AnalyticsScope): { ownerId?: Types.ObjectId } {
  return scope.ownerId ? { ownerId: scope.ownerId } : {};
}
