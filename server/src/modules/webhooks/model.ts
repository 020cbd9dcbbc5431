import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';

import { WebhookEventTypes } from '@gen3d/shared';

const EndpointSchema = new Schema(
  {
    ownerId: { type: Schema.Types.ObjectId, required: true },
    url: { type: String, required: true },
    events: { type: [String], enum: WebhookEventTypes, required: true },
    description: { type: String, default: '' },
    enabled: { type: Boolean, default: true },
    disabledReason: { type: String, default: null },
    /** The signing secret, encrypted with a key derived from JWT_SECRET (see secrets.ts). */
    secretCiphertext: { type: String, required: true },
    secretPrefix: { type: String, required: true },
    /** Deliveries in a row that used up their attempts; a success resets it. */
    consecutiveFailures: { type: Number, default: 0 },
  },
  { timestamps: true, strict: 'throw' },
);
EndpointSchema.index({ ownerId: 1, createdAt: 1 });

export type WebhookEndpointRecord = InferSchemaType<typeof EndpointSchema> & { _id: Types.ObjectId };
export type WebhookEndpointModel = Model<InferSchemaType<typeof EndpointSchema>>;

const AttemptSchema = new Schema(
  {
    at: { type: Date, required: true },
    status: { type: Number, default: null },
    latencyMs: { type: Number, required: true },
    error: { type: String, default: null },
  },
  { _id: false },
);

/** How long delivery records are kept (a TTL index removes older ones). */
export const DELIVERY_RETENTION_DAYS = 30;

const DeliverySchema = new Schema(
  {
    /** The webhook-id: derived from job, event and endpoint, so recording an event twice stores it once. */
    _id: { type: String, required: true },
    endpointId: { type: Schema.Types.ObjectId, required: true },
    ownerId: { type: Schema.Types.ObjectId, required: true },
    jobId: { type: Schema.Types.ObjectId, required: true },
    type: { type: String, enum: WebhookEventTypes, required: true },
    /** The order of the job's events: a delivery waits for the earlier events of its job to the same endpoint. */
    sequence: { type: Number, required: true },
    payload: { type: String, required: true },
    status: { type: String, enum: ['pending', 'succeeded', 'failed'], default: 'pending' },
    attemptCount: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, default: null },
    leaseOwner: { type: String, default: null },
    leaseExpiresAt: { type: Date, default: null },
    attempts: { type: [AttemptSchema], default: [] },
  },
  { timestamps: true, strict: 'throw' },
);
DeliverySchema.index({ status: 1, nextAttemptAt: 1 });
DeliverySchema.index({ endpointId: 1, jobId: 1, sequence: 1 });
DeliverySchema.index({ endpointId: 1, createdAt: -1 });
DeliverySchema.index({ createdAt: 1 }, { expireAfterSeconds: DELIVERY_RETENTION_DAYS * 86_400 });

export type WebhookDeliveryRecord = InferSchemaType<typeof DeliverySchema>;
export type WebhookDeliveryModel = Model<InferSchemaType<typeof DeliverySchema>>;

export function webhookEndpointModel(connection: Connection): WebhookEndpointModel {
  return connection.model('WebhookEndpoint', EndpointSchema);
}

export function webhookDeliveryModel(connection: Connection): WebhookDeliveryModel {
  return connection.model('WebhookDelivery', DeliverySchema);
}
