import { z } from 'zod';
import { ZEmail, ZObjectId, ZRole } from './auth.js';
import { ZUserView } from './users.js';

export const ZSetRolesInput = z.strictObject({ id: ZObjectId, roles: z.array(ZRole).min(1) });

/** What an admin action on a user answers: the user as they are after it. */
export const ZAdminUserResult = z.object({ ok: z.literal(true), message: z.string(), user: ZUserView });
export type TAdminUserResult = z.infer<typeof ZAdminUserResult>;

export const ZDeleteUserInput = z.strictObject({
  id: ZObjectId,
  confirmEmail: ZEmail.describe("The account's email, typed again to confirm a deletion that cannot be undone"),
});

/** How many records of each kind went with a deleted account. */
export const ZDeletedCounts = z.object({
  accounts: z.number().int(),
  refreshTokens: z.number().int(),
  passwordResets: z.number().int(),
  jobs: z.number().int(),
  assets: z.number().int().describe('Asset records; their files go with them'),
  messages: z.number().int(),
  chats: z.number().int(),
});
export type TDeletedCounts = z.infer<typeof ZDeletedCounts>;

export const ZDeleteUserResult = z.object({ ok: z.literal(true), message: z.string(), deleted: ZDeletedCounts });
export type TDeleteUserResult = z.infer<typeof ZDeleteUserResult>;
