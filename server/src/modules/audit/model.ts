import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

import { AuditActions, AuditTargetTypes } from '@gen3d/shared';

const AuditEventSchema = new Schema(
  {
    action: { type: String, enum: AuditActions, required: true },
    at: { type: Date, required: true },
    actor: {
      userId: { type: Schema.Types.ObjectId, default: null },
      email: { type: String, default: null },
      via: { type: String, enum: ['api', 'cli'], required: true },
    },
    target: {
      type: { type: String, enum: AuditTargetTypes, required: true },
      id: { type: String, required: true },
      label: { type: String, default: null },
    },
    ip: { type: String, default: null },
    userAgent: { type: String, default: null },
    changes: { type: Schema.Types.Mixed, default: null },
    details: { type: Schema.Types.Mixed, default: null },
  },
  // The log is append-only: no timestamps to bump, no version key to increment.
  // Empty before/after objects are kept as they are (mongoose would drop them).
  { versionKey: false, strict: 'throw', minimize: false },
);
// The queries admins run: newest first, by action, by actor, by target. The TTL index on `at` (retention)
// is made by ensureAuditRetention, because its lifetime comes from the configuration.
AuditEventSchema.index({ action: 1, at: -1 });
AuditEventSchema.index({ 'actor.userId': 1, at: -1 });
AuditEventSchema.index({ 'target.id': 1, at: -1 });

export type AuditEventRecord = InferSchemaType<typeof AuditEventSchema>;
export type AuditEventModel = Model<AuditEventRecord>;

export function auditEventModel(connection: Connection): AuditEventModel {
  return connection.model<AuditEventRecord>('AuditEvent', AuditEventSchema, 'audit_events');
}

const TTL_INDEX = 'at_retention';
const INDEX_OPTIONS_CONFLICT = 85;

/**
 * Keeps events for `days`: a TTL index on `at`. A changed retention is applied to the existing index with
 * collMod (createIndex refuses different options on the same key).
 */
export async function ensureAuditRetention(events: AuditEventModel, days: number): Promise<void> {
  const expireAfterSeconds = days * 24 * 60 * 60;
  try {
    await events.collection.createIndex({ at: -1 }, { name: TTL_INDEX, expireAfterSeconds });
  } catch (error) {
    if ((error as { code?: number }).code !== INDEX_OPTIONS_CONFLICT) throw error;
    await events.db.db?.command({
      collMod: events.collection.collectionName,
      index: { name: TTL_INDEX, expireAfterSeconds },
    });
  }
}
