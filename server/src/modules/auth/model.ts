import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

import type { OwnedData } from '../users/owned-data.js';

const PendingRegistrationSchema = new Schema(
  {
    email: { type: String, required: true, unique: true },
    userName: { type: String, required: true },
    passwordHash: { type: String, required: true },
    codeHash: { type: String, required: true },
    codeExpiresAt: { type: Date, required: true },
    failedAttempts: { type: Number, default: 0 },
    lastSentAt: { type: Date, required: true },
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

export type PendingRegistrationRecord = InferSchemaType<typeof PendingRegistrationSchema>;
export type RefreshTokenRecord = InferSchemaType<typeof RefreshTokenSchema>;
export type PasswordResetRecord = InferSchemaType<typeof PasswordResetSchema>;

export interface AuthModels {
  PendingRegistration: Model<PendingRegistrationRecord>;
  RefreshToken: Model<RefreshTokenRecord>;
  PasswordReset: Model<PasswordResetRecord>;
}

export function authModels(connection: Connection): AuthModels {
  return {
    PendingRegistration: connection.model<PendingRegistrationRecord>(
      'PendingRegistration',
      PendingRegistrationSchema,
    ),
    RefreshToken: connection.model<RefreshTokenRecord>('RefreshToken', RefreshTokenSchema),
    PasswordReset: connection.model<PasswordResetRecord>('PasswordReset', PasswordResetSchema),
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
