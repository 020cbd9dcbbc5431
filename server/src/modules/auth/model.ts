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

/**
 * One session: the refresh-token family a login starts. Every rotation is one conditional write on this
 * document, and so is revocation, so no token of a revoked family can be issued or accepted afterwards.
 * Its `_id` is the session id access tokens carry as `sid`.
 */
const RefreshFamilySchema = new Schema(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    /** The account's session version at login: a later bump (logout-all, password change…) ends the family. */
    sessionVersion: { type: Number, required: true },
    /** Rotations so far. */
    generation: { type: Number, default: 0 },
    /** SHA-256 of the one token that rotates normally. */
    currentHash: { type: String, required: true },
    /** SHA-256 of the token `currentHash` replaced, and when: within the reuse grace it may rotate again. */
    previousHash: { type: String, default: null },
    rotatedAt: { type: Date, default: null },
    /** The last hashes the family issued (current included), so an older one presented again is recognised as reuse. */
    tokenHashes: { type: [String], index: true },
    ip: { type: String, default: '' },
    userAgent: { type: String, default: '' },
    revokedAt: { type: Date, default: null },
    /** Absolute: set at login, never extended by rotation. */
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
export type RefreshFamilyRecord = InferSchemaType<typeof RefreshFamilySchema>;
export type PasswordResetRecord = InferSchemaType<typeof PasswordResetSchema>;
export type GuessFailureRecord = InferSchemaType<typeof GuessFailureSchema>;
export type EmailCooldownRecord = InferSchemaType<typeof EmailCooldownSchema>;

export interface AuthModels {
  PendingRegistration: Model<PendingRegistrationRecord>;
  RefreshFamily: Model<RefreshFamilyRecord>;
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
    RefreshFamily: connection.model<RefreshFamilyRecord>('RefreshFamily', RefreshFamilySchema),
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
      deleteAllOf: async (userId) => (await models.RefreshFamily.deleteMany({ userId })).deletedCount,
    },
    {
      kind: 'passwordResets',
      deleteAllOf: async (userId) => (await models.PasswordReset.deleteMany({ userId })).deletedCount,
    },
  ];
}
