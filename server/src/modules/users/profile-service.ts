import type { TMe, TUpdateMeInput, TUpdateUserInput, TUserView } from '@gen3d/shared';

import { sameId } from '../../db/ids.js';
import { Forbidden, NotFound } from '../../domain-errors.js';
import type { Caller } from '../audit/audit-log.js';
import type { AccountAdminService } from './account-admin-service.js';
import type { UserDirectory } from './directory-service.js';
import type { UserModel } from './model.js';
import { toMe } from './user-views.js';

export interface ProfileService {
  /** Changes only the name, profile and settings fields given; roles and email are not reachable here. */
  updateMe(userId: string, input: TUpdateMeInput): Promise<TMe>;
  /**
   * PATCH /users/{id}: owners change their name, profile and settings; admins change anyone's, and the
   * email, verification, roles (never their own) and activity too, all four as audited account changes.
   */
  updateUser(caller: Caller, input: TUpdateUserInput): Promise<TUserView>;
}

const ADMIN_FIELDS = ['email', 'roles', 'active', 'emailVerified'] as const;

/** Flattens a nested partial update into dotted $set paths so untouched sibling fields stay. */
function toSetPaths(input: TUpdateMeInput): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  if (input.userName !== undefined) set.userName = input.userName;
  for (const group of ['profile', 'settings'] as const) {
    for (const [field, value] of Object.entries(input[group] ?? {}))
      if (value !== undefined) set[`${group}.${field}`] = value;
  }
  return set;
}

export function createProfileService(
  users: UserModel,
  directory: UserDirectory,
  accounts: AccountAdminService,
): ProfileService {
  return {
    async updateMe(userId, input) {
      const set = toSetPaths(input);
      if (Object.keys(set).length > 0) await users.updateOne({ _id: userId }, { $set: set });
      const user = await users.findById(userId).lean();
      if (!user) throw new NotFound('Account not found');
      return toMe(user);
    },

    async updateUser({ user: viewer, actor }, input) {
      const isAdmin = viewer.roles.includes('admin');
      const isOwner = sameId(viewer.id, input.id);
      if (!isAdmin && !isOwner) throw new Forbidden('You can only change your own account');
      const adminFields = ADMIN_FIELDS.filter((field) => input[field] !== undefined);
      if (adminFields.length > 0 && !isAdmin)
        throw new Forbidden(`Only admins may change ${adminFields.join(', ')}`);
      if (!(await users.exists({ _id: input.id }))) throw new NotFound('User not found');
      if (input.roles) await accounts.setRoles(actor, input.id, input.roles);
      if (input.active !== undefined) await accounts.setActive(actor, input.id, input.active);
      if (input.email !== undefined || input.emailVerified !== undefined)
        await accounts.setEmail(actor, input.id, { email: input.email, emailVerified: input.emailVerified });
      const set = toSetPaths(input);
      if (Object.keys(set).length > 0) await users.updateOne({ _id: input.id }, { $set: set });
      return directory.accountView(viewer, input.id);
    },
  };
}
