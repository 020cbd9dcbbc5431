import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

import type { OwnedData } from '../users/owned-data.js';

const PendingRegistrationSchema = new Schema(
  {
    email: { type: String, required: true, unique: true },
    userName: { type: String, required: true },
    passwordHash: { type: String, required: true },
    codeHash: { type: String, required: true },
    codeExpiresAt: { type: Date, required: true },
    // Abandoned registrations disappear after a day.
    expiresAt: { type: Date, required: true, index: { expireAfterSeconds: 0 } },
  },
  { timestamps: true },
);

const RefreshTokenSchema = new Schema(
  {
    tokenHash: { type: String, required: true, unique: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    familyId: { type: String, required: true, index: true },
    ip: { type: String, default: '' },
    userAgent: { type: String, default: '' },
    spentAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
    expiresAt: { type: Date, required: true, index: { expireAfterSeconds: 0 } },
  },
  { timestamps: true },
);

const PasswordResetSchema = new Schema(
  {
    tokenHash: { type: String, required: true, unique: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    usedAt: { type: Date, default: null },
    expiresAt: { type: Date, required: true, index: { expireAfterSeconds: 0 } },
  },
  { timestamps: true },
);

/**
 * Consecutive failed guesses (passwords or verification codes) for one email, whatever the window or
 * address, counted before each guess is judged; gone a day after the last attempt or at a success.
 */
const GuessFailureSchema = new Schema({
  purpose: { type: String, required: true },
  email: { type: String, required: true },
  count: { type: Number, required: true, default: 0 },
  lockedUntil: { type: Date, default: null },
  expiresAt: { type: Date, required: true, index: { expireAfterSeconds: 0 } },
});
GuessFailureSchema.index({ purpose: 1, email: 1 }, { unique: true });

/** When an email of one kind was last sent to an address: at most one per cooldown. */
const EmailCooldownSchema = new Schema({
  kind: { type: String, required: true },
  email: { type: String, required: true },
  sentAt: { type: Date, required: true },
  expiresAt: { type: Date, required: true, index: { expireAfterSeconds: 0 } },
});
EmailCooldownSchema.index({ kind: 1, email: 1 }, { unique: true });

export type PendingRegistrationRecord = InferSchemaType<typeof PendingRegistrationSchema>;
export type RefreshTokenRecord = InferSchemaType<typeof RefreshTokenSchema>;
export type PasswordResetRecord = InferSchemaType<typeof PasswordResetSchema>;
export type GuessFailureRecord = InferSchemaType<typeof GuessFailureSchema>;
export type EmailCooldownRecord = InferSchemaType<typeof EmailCooldownSchema>;

export interface AuthModels {
  PendingRegistration: Model<PendingRegistrationRecord>;
  RefreshToken: Model<RefreshTokenRecord>;
  PasswordReset: Model<PasswordResetRecord>;
  GuessFailure: Model<GuessFailureRecord>;
  EmailCooldown: Model<EmailCooldownRecord>;
}

export function authModels(connection: Connection): AuthModels {
  return {
    PendingRegistration: connection.model<PendingRegistrationRecord>(
      'PendingRegistration',
      PendingRegistrationSchema,
    ),
    RefreshToken: connection.model<RefreshTokenRecord>('RefreshToken', RefreshTokenSchema),
    PasswordReset: connection.model<PasswordResetRecord>('PasswordReset', PasswordResetSchema),
    GuessFailure: connection.model<GuessFailureRecord>('GuessFailure', GuessFailureSchema),
    EmailCooldown: connection.model<EmailCooldownRecord>('EmailCooldown', EmailCooldownSchema),
  };
}

/** The session and reset records an account owns, for account deletion. */
export function authOwnedData(models: AuthModels): OwnedData[] {
  return [
    {
      kind: 'refreshTokens',
      deleteAllOf: async (userId) => (await models.RefreshToken.deleteMany({ userId })).deletedCount,
    },
    {
      kind: 'passwordResets',
      deleteAllOf: async (userId) => (await models.PasswordReset.deleteMany({ userId })).deletedCount,
    },
  ];
}
