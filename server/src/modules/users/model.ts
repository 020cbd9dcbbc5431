import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

import { Roles, Themes } from '@gen3d/shared';

const UserSchema = new Schema(
  {
    email: { type: String, required: true, unique: true },
    userName: { type: String, required: true },
    passwordHash: { type: String, required: true },
    roles: { type: [{ type: String, enum: Roles }], default: ['user'] },
    emailVerified: { type: Boolean, default: false },
    active: { type: Boolean, default: true },
    /** Last login or token refresh: what "active in the last 24 hours / 7 days" counts. */
    lastActiveAt: { type: Date, default: null },
    /** Access tokens carry the version they were issued under; a bump ends them all (and every session). */
    sessionVersion: { type: Number, default: 0 },
    /**
     * Sessions logged out one by one, each with the time until which one of its access tokens could still
     * be alive; pruned on write, bounded (see session-service).
     */
    endedSessions: {
      type: [
        { _id: false, sessionId: { type: String, required: true }, until: { type: Date, required: true } },
      ],
      default: [],
    },
    profile: {
      avatarUrl: { type: String, default: null },
      bio: { type: String, default: '' },
    },
    settings: {
      theme: { type: String, enum: Themes, default: 'system' },
      language: { type: String, default: 'en' },
      notifications: { type: Boolean, default: true },
    },
  },
  { timestamps: true, strict: 'throw' },
);

UserSchema.index({ lastActiveAt: 1 });
UserSchema.index({ createdAt: -1 });

export type UserRecord = InferSchemaType<typeof UserSchema>;
export type UserModel = Model<UserRecord>;

export function userModel(connection: Connection): UserModel {
  return connection.model<UserRecord>('User', UserSchema);
}
