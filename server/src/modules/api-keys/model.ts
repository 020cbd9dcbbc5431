import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

import { ApiKeyScopes } from '@gen3d/shared';

import type { OwnedData } from '../users/owned-data.js';

/**
 * One API key of a user. Only an HMAC of its secret is stored; `publicId` (in the key itself) finds it.
 * A revoked key is deleted (the audit log keeps its history); an expired one is removed by the TTL index
 * and refused before that by the check at each use.
 */
const ApiKeySchema = new Schema(
  {
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    name: { type: String, required: true },
    publicId: { type: String, required: true, unique: true },
    secretHash: { type: String, required: true },
    scopes: { type: [{ type: String, enum: ApiKeyScopes }], required: true },
    expiresAt: { type: Date, default: null, index: { expireAfterSeconds: 0 } },
    lastUsedAt: { type: Date, default: null },
    lastUsedIp: { type: String, default: null },
    /** Client addresses (per-address keys: IPv4, or IPv6 /64) seen using it, newest last, bounded. */
    addresses: { type: [String], default: [] },
  },
  { timestamps: true, strict: 'throw' },
);

export type ApiKeyRecord = InferSchemaType<typeof ApiKeySchema>;
export type ApiKeyModel = Model<ApiKeyRecord>;

export function apiKeyModel(connection: Connection): ApiKeyModel {
  return connection.model<ApiKeyRecord>('ApiKey', ApiKeySchema, 'api_keys');
}

/** The keys an account owns, for account deletion. */
export function apiKeysOwnedData(keys: ApiKeyModel): OwnedData {
  return {
    kind: 'apiKeys',
    deleteAllOf: async (userId) => (await keys.deleteMany({ userId })).deletedCount,
  };
}
