import type { TMe, TUserView } from '@gen3d/shared';

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

/** A public profile; the email for staff and the owner, the settings for the owner and admins. */
export function userViewFor(viewer: Viewer, user: StoredUser): TUserView {
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

/** Everything a view may show, as admins see every account. */
export function adminViewOf(user: StoredUser): TUserView {
  return userViewFor({ id: '', roles: ['admin'] }, user);
}
