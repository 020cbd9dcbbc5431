import { z } from 'zod';

import {
  ZEmail,
  ZObjectId,
  ZPassword,
  ZProfile,
  ZRole,
  ZSettings,
  ZUpdateMeInput,
  ZUserName,
} from './auth.js';
import { queryInteger, ZBooleanFilter, ZPage } from './query-params.js';

export const ZPagination = z.object({
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
  pages: z.number().int(),
});
export type TPagination = z.infer<typeof ZPagination>;

/** GET inputs are flat strings coerced to numbers (they come from query strings over REST). */
export const ZListUsersInput = z.strictObject({
  page: ZPage,
  limit: queryInteger(1, 100).default(20),
  search: z
    .string()
    .trim()
    .max(100)
    .optional()
    .describe('Matches the start of an email or user name, case-insensitively'),
  role: ZRole.optional().describe('Only users holding this role'),
  active: ZBooleanFilter.optional().describe('Only active (true) or deactivated (false) users'),
  verified: ZBooleanFilter.optional().describe('Only users whose email is verified (true) or not (false)'),
});

/** A user as staff see them in lists, and as the owner and staff see one account (settings only for the owner and admins). */
export const ZUserView = z.object({
  _id: z.string(),
  id: z.string(),
  email: z.string(),
  userName: z.string(),
  roles: z.array(ZRole),
  emailVerified: z.boolean(),
  active: z.boolean(),
  profile: ZProfile,
  settings: ZSettings.optional().describe('Shown to the owner and admins'),
  createdAt: z.string(),
});
export type TUserView = z.infer<typeof ZUserView>;

/** A public profile: what any signed-in user sees of another plain user's account. */
export const ZPublicUserView = z.object({
  _id: z.string(),
  id: z.string(),
  userName: z.string(),
  profile: ZProfile,
  createdAt: z.string(),
});
export type TPublicUserView = z.infer<typeof ZPublicUserView>;

/** GET /users/{id}: the whole account for its owner, moderators and admins; the public profile for anyone else. */
export const ZUserLookup = z.union([ZUserView, ZPublicUserView]);
export type TUserLookup = z.infer<typeof ZUserLookup>;

export const ZUserList = z.object({ users: z.array(ZUserView), pagination: ZPagination });

export const ZUserIdInput = z.strictObject({ id: ZObjectId });

export const ZCreateUserInput = z.strictObject({
  email: ZEmail,
  userName: ZUserName,
  password: ZPassword,
  roles: z.array(ZRole).min(1).default(['user']),
});

/** PATCH /users/:id. Owners may send userName, profile and settings; the other fields are for admins. */
export const ZUpdateUserInput = ZUpdateMeInput.extend({
  id: ZObjectId,
  email: ZEmail.optional(),
  roles: z.array(ZRole).min(1).optional(),
  active: z.boolean().optional(),
  emailVerified: z.boolean().optional(),
});
export type TUpdateUserInput = z.infer<typeof ZUpdateUserInput>;
