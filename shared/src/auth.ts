import { z } from 'zod';

export const Roles = ['user', 'moderator', 'admin'] as const;
export const ZRole = z.enum(Roles);
export type TRole = z.infer<typeof ZRole>;

/** Lower-cased, trimmed email; strings only, so `{"$gt": ""}` never reaches a query. */
export const ZEmail = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be a valid email address' }))
  .transform((email) => email.toLowerCase());

export const ZPassword = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(256, 'must be at most 256 characters');
export const ZUserName = z
  .string()
  .trim()
  .min(2, 'must be at least 2 characters')
  .max(40, 'must be at most 40 characters')
  .regex(/^[\p{L}\p{N}_.\- ]+$/u, 'may contain letters, digits, spaces, dots, dashes and underscores');
export const ZVerificationCode = z.string().regex(/^\d{6}$/, 'must be the 6-digit code from the email');
export const ZObjectId = z
  .string()
  .regex(/^[0-9a-fA-F]{24}$/, 'must be a 24-character hex id')
  .toLowerCase();

export const ZOk = z.object({ ok: z.literal(true) });
export const ZOkMessage = z.object({ ok: z.literal(true), message: z.string() });

export const ZRegisterInput = z.strictObject({ email: ZEmail, userName: ZUserName, password: ZPassword });
export type TRegisterInput = z.infer<typeof ZRegisterInput>;

export const ZVerifyRegistrationInput = z.strictObject({ email: ZEmail, code: ZVerificationCode });

export const ZUserSummary = z.object({ id: z.string(), email: z.string(), userName: z.string() });
export const ZVerifyRegistrationResult = ZOkMessage.extend({ user: ZUserSummary });

export const ZLoginInput = z.strictObject({ email: ZEmail, password: z.string().min(1).max(256) });
export const ZSessionUser = ZUserSummary.extend({ roles: z.array(ZRole), emailVerified: z.boolean() });
export const ZLoginResult = z.object({
  ok: z.literal(true),
  token: z.string().describe('Access token (JWT), sent as `Authorization: Bearer <token>`'),
  refreshToken: z.string().describe('Opaque refresh token; each use spends it and returns a new one'),
  user: ZSessionUser,
});
export type TLoginResult = z.infer<typeof ZLoginResult>;

export const ZRefreshInput = z.strictObject({ refreshToken: z.string().min(1).max(512) });
export const ZRefreshResult = z.object({ token: z.string(), refreshToken: z.string() });
export const ZLogoutInput = ZRefreshInput;

export const ZRequestPasswordResetInput = z.strictObject({ email: ZEmail });
export const ZResetPasswordInput = z.strictObject({
  token: z.string().min(1).max(512),
  newPassword: ZPassword,
});
export const ZChangePasswordInput = z.strictObject({
  currentPassword: z.string().min(1).max(256),
  newPassword: ZPassword,
});

export const Themes = ['system', 'light', 'dark'] as const;
export const ZProfile = z.object({ avatarUrl: z.string().nullable(), bio: z.string() });
export const ZSettings = z.object({
  theme: z.enum(Themes),
  language: z.string(),
  notifications: z.boolean(),
});

/** A user as its owner (and admins) see it: never a secret. */
export const ZMe = z.object({
  _id: z.string(),
  id: z.string(),
  email: z.string(),
  userName: z.string(),
  roles: z.array(ZRole),
  emailVerified: z.boolean(),
  active: z.boolean(),
  profile: ZProfile,
  settings: ZSettings,
  createdAt: z.string(),
});
export type TMe = z.infer<typeof ZMe>;

export const ZUpdateMeInput = z.strictObject({
  userName: ZUserName.optional(),
  profile: z
    .strictObject({
      avatarUrl: z
        .url({ protocol: /^https?$/ })
        .max(2048)
        .nullable()
        .optional(),
      bio: z.string().max(1000).optional(),
    })
    .optional(),
  settings: z
    .strictObject({
      theme: z.enum(Themes).optional(),
      language: z
        .string()
        .regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'must be a language tag such as en or en-GB')
        .optional(),
      notifications: z.boolean().optional(),
    })
    .optional(),
});
export type TUpdateMeInput = z.infer<typeof ZUpdateMeInput>;
