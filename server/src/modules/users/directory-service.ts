import type { QueryFilter } from 'mongoose';
import { type z } from 'zod';

import { type TUserLookup, type TUserView, type ZListUsersInput, type ZUserList } from '@gen3d/shared';

import { onPage, paginationOf } from '../../db/paging.js';
import { NotFound } from '../../domain-errors.js';
import { escapeRegExp } from '../../infra/regexp.js';
import type { UserModel, UserRecord } from './model.js';
import { accountViewFor, adminViewOf, userViewFor, type Viewer } from './user-views.js';

export type UserListQuery = z.output<typeof ZListUsersInput>;
export type UserListPage = z.output<typeof ZUserList>;

/** Finding and reading users; it changes nothing. */
export interface UserDirectory {
  /** A page of users, newest first, filtered by an email or name prefix, a role, activity and verification. */
  list(query: UserListQuery): Promise<UserListPage>;
  /** One user as this viewer may see them (the whole account or the public profile); NOT_FOUND when there is none. */
  view(viewer: Viewer, id: string): Promise<TUserLookup>;
  /** The whole account, for a viewer already allowed to see it (its owner, staff). */
  accountView(viewer: Viewer, id: string): Promise<TUserView>;
}

function filterOf({ search, role, active, verified }: UserListQuery): QueryFilter<UserRecord> {
  return {
    ...(search
      ? {
          $or: [
            { email: { $regex: `^${escapeRegExp(search.toLowerCase())}` } },
            { userName: { $regex: `^${escapeRegExp(search)}`, $options: 'i' } },
          ],
        }
      : {}),
    ...(role ? { roles: role } : {}),
    ...(active !== undefined ? { active } : {}),
    ...(verified !== undefined ? { emailVerified: verified } : {}),
  };
}

export function createUserDirectory(users: UserModel): UserDirectory {
  return {
    async list(query) {
      const filter = filterOf(query);
      const [total, found] = await Promise.all([
        users.countDocuments(filter),
        onPage(users.find(filter).sort({ createdAt: -1, _id: -1 }), query).lean(),
      ]);
      return { users: found.map(adminViewOf), pagination: paginationOf(query, total) };
    },

    async view(viewer, id) {
      const user = await users.findById(id).lean();
      if (!user) throw new NotFound('User not found');
      return userViewFor(viewer, user);
    },

    async accountView(viewer, id) {
      const user = await users.findById(id).lean();
      if (!user) throw new NotFound('User not found');
      return accountViewFor(viewer, user);
    },
  };
}
