import type { TMe, TPublicUserView, TUserLookup, TUserView } from '@gen3d/shared';

import { sameId } from '../../db/ids.js';
import type { AuthenticatedUser } from '../auth/session-service.js';
import type { UserRecord } from './model.js';

/** A stored account as the views read it: any projection that leaves out the password hash. */
export type StoredUser = Omit<UserRecord, 'passwordHash'> & { _id: { toHexString(): string } };

/** Who is looking at a user: what they may see depends on being the owner, a moderator or an admin. */
export type Viewer = Pick<AuthenticatedUser, 'id' | 'roles'>;

/** The account as its owner sees it. */
export function toMe(user: StoredUser): TMe {
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

/** Whether this viewer sees the whole account: its owner, moderators and admins do. */
export function seesWholeAccount(viewer: Viewer, userId: string): boolean {
  return sameId(viewer.id, userId) || viewer.roles.includes('admin') || viewer.roles.includes('moderator');
}

/** The account as its owner and staff see it; the settings only for the owner and admins. */
export function accountViewFor(viewer: Viewer, user: StoredUser): TUserView {
  const { settings, ...account } = toMe(user);
  const seesSettings = sameId(viewer.id, account.id) || viewer.roles.includes('admin');
  return { ...account, ...(seesSettings ? { settings } : {}) };
}

/** What any signed-in user sees of someone else's account. */
export function publicViewOf(user: StoredUser): TPublicUserView {
  const { _id, id, userName, profile, createdAt } = toMe(user);
  return { _id, id, userName, profile, createdAt };
}

/** The whole account for its owner and staff; the public profile for anyone else. */
export function userViewFor(viewer: Viewer, user: StoredUser): TUserLookup {
  const id = user._id.toHexString();
  return seesWholeAccount(viewer, id) ? accountViewFor(viewer, user) : publicViewOf(user);
}

/** Everything a view may show, as admins see every account. */
export function adminViewOf(user: StoredUser): TUserView {
  return accountViewFor({ id: '', roles: ['admin'] }, user);
}
