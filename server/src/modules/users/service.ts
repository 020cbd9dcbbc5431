import type { QueryFilter } from 'mongoose';
import { type z } from 'zod';

import { type TUpdateUserInput, type TUserView, type ZListUsersInput } from '@gen3d/shared';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import { onPage, paginationOf } from '../../db/paging.js';
import { Conflict, Forbidden, NotFound } from '../../domain-errors.js';
import { escapeRegExp } from '../../infra/regexp.js';
import type { Caller } from '../audit/audit-log.js';
import type { AuthenticatedUser } from '../auth/session-service.js';
import type { AccountAdminService } from './account-admin-service.js';
import type { UserModel, UserRecord } from './model.js';
import { toMe, toSetPaths } from './profile-service.js';

type ListInput = z.output<typeof ZListUsersInput>;

export interface UserListPage {
  users: TUserView[];
  pagination: { page: number; limit: number; total: number; pages: number };
}

export interface UsersService {
  /** A page of users, newest first, filtered by an email or name prefix, a role, activity and verification. */
  list(input: ListInput): Promise<UserListPage>;
  /** A public profile; email for staff and the owner, settings for the owner and admins. */
  get(viewer: AuthenticatedUser, id: string): Promise<TUserView>;
  /** Owners change name, profile and settings; only admins change the rest, and never their own roles. */
  update(caller: Caller, input: TUpdateUserInput): Promise<TUserView>;
}

const ADMIN_FIELDS = ['email', 'roles', 'active', 'emailVerified'] as const;

function viewFor(
  viewer: Pick<AuthenticatedUser, 'id' | 'roles'>,
  user: UserRecord & { _id: { toHexString(): string } },
): TUserView {
  const full = toMe(user);
  const isOwner = viewer.id === full.id;
  const isAdmin = viewer.roles.includes('admin');
  const isStaff = isAdmin || viewer.roles.includes('moderator');
  return {
    _id: full._id,
    id: full.id,
    ...(isOwner || isStaff ? { email: full.email } : {}),
    userName: full.userName,
    roles: full.roles,
    emailVerified: full.emailVerified,
    active: full.active,
    profile: full.profile,
    ...(isOwner || isAdmin ? { settings: full.settings } : {}),
    createdAt: full.createdAt,
  };
}

export function createUsersService(users: UserModel, accounts: AccountAdminService): UsersService {
  async function load(viewer: AuthenticatedUser, id: string): Promise<TUserView> {
    const user = await users.findById(id).lean();
    if (!user) throw new NotFound('User not found');
    return viewFor(viewer, user);
  }

  return {
    async list({ page, limit, search, role, active, verified }) {
      const filter: QueryFilter<UserRecord> = {
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
      const [total, found] = await Promise.all([
        users.countDocuments(filter),
        onPage(users.find(filter).sort({ createdAt: -1, _id: -1 }), { page, limit }).lean(),
      ]);
      const staff = { id: '', roles: ['admin'] as AuthenticatedUser['roles'] };
      return {
        users: found.map((user) => viewFor(staff, user)),
        pagination: paginationOf({ page, limit }, total),
      };
    },

    get: load,

    async update({ user: viewer, actor }, input) {
      const isAdmin = viewer.roles.includes('admin');
      const isOwner = viewer.id === input.id;
      if (!isAdmin && !isOwner) throw new Forbidden('You can only change your own account');
      const adminFields = ADMIN_FIELDS.filter((field) => input[field] !== undefined);
      if (adminFields.length > 0 && !isAdmin)
        throw new Forbidden(`Only admins may change ${adminFields.join(', ')}`);
      if (!(await users.exists({ _id: input.id }))) throw new NotFound('User not found');
      if (input.roles) await accounts.setRoles(actor, input.id, input.roles);
      if (input.active !== undefined) await accounts.setActive(actor, input.id, input.active);
      const set = toSetPaths(input);
      if (input.email !== undefined) set.email = input.email;
      if (input.emailVerified !== undefined) set.emailVerified = input.emailVerified;
      if (Object.keys(set).length > 0) {
        try {
          await users.updateOne({ _id: input.id }, { $set: set });
        } catch (error) {
          if (isDuplicateKeyError(error)) throw new Conflict('Another account already uses this email');
          throw error;
        }
      }
      return load(viewer, input.id);
    },
  };
}
