import type { TMe, TUpdateMeInput } from '@gen3d/shared';

import { NotFound } from '../../domain-errors.js';
import type { UserModel, UserRecord } from './model.js';

export interface ProfileService {
  /** Changes only the name, profile and settings fields given; roles and email are not reachable here. */
  updateMe(userId: string, input: TUpdateMeInput): Promise<TMe>;
}

export function toMe(user: Omit<UserRecord, 'passwordHash'> & { _id: { toHexString(): string } }): TMe {
  const id = user._id.toHexString();
  return {
    _id: id,
    id,
    email: user.email,
    userName: user.userName,
    roles: user.roles as TMe['roles'],
    emailVerified: user.emailVerified,
    active: user.active,
    profile: { avatarUrl: user.profile?.avatarUrl ?? null, bio: user.profile?.bio ?? '' },
    settings: {
      theme: (user.settings?.theme ?? 'system') as TMe['settings']['theme'],
      language: user.settings?.language ?? 'en',
      notifications: user.settings?.notifications ?? true,
    },
    createdAt: user.createdAt.toISOString(),
  };
}

/** Flattens a nested partial update into dotted $set paths so untouched sibling fields stay. */
export function toSetPaths(input: TUpdateMeInput): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  if (input.userName !== undefined) set.userName = input.userName;
  for (const group of ['profile', 'settings'] as const) {
    for (const [field, value] of Object.entries(input[group] ?? {}))
      if (value !== undefined) set[`${group}.${field}`] = value;
  }
  return set;
}

export function createProfileService(users: UserModel): ProfileService {
  async function load(userId: string): Promise<TMe> {
    const user = await users.findById(userId).lean();
    if (!user) throw new NotFound('Account not found');
    return toMe(user);
  }
  return {
    async updateMe(userId, input) {
      const set = toSetPaths(input);
      if (Object.keys(set).length > 0) await users.updateOne({ _id: userId }, { $set: set });
      return load(userId);
    },
  };
}
