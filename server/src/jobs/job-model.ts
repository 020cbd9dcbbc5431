import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';

import { JobInputTypes, JobKinds, JobStatuses, OutputFormats, QualityPresets } from '@gen3d/shared';

import { AttachmentSchema } from '../modules/assets/attachment-schema.js';

const JobSchema = new Schema(
  {
    ownerId: { type: Schema.Types.ObjectId, required: true },
    /** Records written before kinds existed have none: they read as `generate`. */
    kind: { type: String, enum: JobKinds, default: 'generate' },
    chatId: { type: Schema.Types.ObjectId, default: null },
    /** Empty for a job made from an image alone. */
    prompt: { type: String, default: '' },
    /** The prompt in lower case with its spacing collapsed: what "the same prompt" means in analytics. */
    promptKey: { type: String, default: '' },
    /** What the job starts from; records written before images were taken are text jobs. */
    inputType: { type: String, enum: JobInputTypes, default: 'text' },
    params: {
      type: {
        seed: { type: Number, required: true },
        quality: { type: String, enum: QualityPresets, required: true },
        formats: { type: [{ type: String, enum: OutputFormats }], required: true },
        modelServer: { type: String, required: true },
        guidanceScale: Number,
        steps: Number,
        frameSize: Number,
        /** The input image, an asset of kind `image` of the job's owner. */
        imageAssetId: { type: Schema.Types.ObjectId },
      },
      required: true,
      _id: false,
    },
    /** Post-processing jobs: the model asset they start from and the operation's parameters. */
    postprocess: {
      type: {
        sourceAssetId: { type: Schema.Types.ObjectId, required: true },
        sourceJobId: { type: Schema.Types.ObjectId, default: null },
        ratio: Number,
        targetTriangles: Number,
        format: { type: String, enum: OutputFormats, required: true },
      },
      default: null,
      _id: false,
    },
    idempotencyKey: { type: String, default: null },
    status: { type: String, enum: JobStatuses, required: true, default: 'queued' },
    progress: { type: Number, default: 0 },
    attempts: { type: Number, default: 0 },
    maxAttempts: { type: Number, required: true },
    /**
     * The owner's unfinished jobs when this one was queued. Claims go in (fairRank, createdAt) order, so
     * every owner's first waiting job comes before anyone's second: a backlog cannot starve others.
     */
    fairRank: { type: Number, default: 0 },
    /** Not claimable before this time (retry backoff). */
    availableAt: { type: Date, required: true },
    leaseOwner: { type: String, default: null },
    /** The worker that claimed the latest attempt (kept after the job ends, unlike the lease). */
    claimedBy: { type: String, default: null },
    leaseExpiresAt: { type: Date, default: null },
    cancelRequested: { type: Boolean, default: false },
    error: { type: { code: String, message: String }, default: null, _id: false },
    outputs: { type: [AttachmentSchema], default: [] },
    userMessageId: { type: Schema.Types.ObjectId, default: null },
    /** The id of the request that queued the job: its failures are logged with it, to find them together. */
    requestId: { type: String, default: null },
    startedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
    computeMs: { type: Number, default: null },
    version: { type: Number, default: 0 },
  },
  { timestamps: true, strict: 'throw' },
);
// Claiming the fairest available queued job, and counting the queued jobs ahead of one (queue position).
JobSchema.index({ status: 1, fairRank: 1, createdAt: 1, _id: 1 });
// A model server's latest succeeded jobs: its typical run time (queue ETAs).
JobSchema.index({ 'params.modelServer': 1, status: 1, finishedAt: -1 });
// Lease recovery.
JobSchema.index({ status: 1, leaseExpiresAt: 1 });
JobSchema.index({ ownerId: 1, createdAt: -1 });
JobSchema.index({ ownerId: 1, status: 1 });
JobSchema.index({ chatId: 1 });
// Admin listings and system-wide analytics: newest first, by status.
JobSchema.index({ createdAt: -1 });
JobSchema.index({ status: 1, createdAt: -1 });
JobSchema.index({ ownerId: 1, promptKey: 1 });
// Live updates from other instances are found by recency.
JobSchema.index({ updatedAt: 1 });
JobSchema.index(
  { ownerId: 1, idempotencyKey: 1 },
  { unique: true, partialFilterExpression: { idempotencyKey: { $type: 'string' } } },
);

export type JobRecord = InferSchemaType<typeof JobSchema> & {
  _id: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
};
export type JobModel = Model<InferSchemaType<typeof JobSchema>>;

/** What counts as the same prompt: case and spacing do not matter. */
export function promptKeyOf(prompt: string): string {
  return prompt.trim().replace(/\s+/g, ' ').toLowerCase();
}

export function jobModel(connection: Connection): JobModel {
  return connection.model('Job', JobSchema);
}
