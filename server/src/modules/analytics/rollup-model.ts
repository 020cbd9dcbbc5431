import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * Counters of one owner's (or, with ownerId null, everyone's) jobs and assets created in one UTC hour or
 * UTC day. Hour rollups hold `jobs` (per status) and `assets`; day rollups hold those, `kinds` (jobs per
 * kind), `inputs` (generation jobs per input type) and, for generation metrics, `servers` (per model server: per status, and the sum and count of succeeded durations),
 * `failures` (failed jobs per error code) and `durations` (succeeded jobs per exact duration in ms).
 * Names inside the maps are encoded by rollup-keys.ts.
 */
export interface RollupRecord {
  _id: string;
  ownerId: Types.ObjectId | null;
  span: 'hour' | 'day';
  start: Date;
  jobs?: Partial<Record<string, number>>;
  kinds?: Partial<Record<string, number>>;
  inputs?: Partial<Record<string, number>>;
  assets?: { count?: number; bytes?: number };
  servers?: Partial<Record<string, Partial<Record<string, number>>>>;
  failures?: Partial<Record<string, number>>;
  durations?: Partial<Record<string, number>>;
}

/** How often a prompt (its key: case and spacing ignored) was used by one owner, or by everyone (ownerId null). */
export interface PromptRollupRecord {
  _id: string;
  ownerId: Types.ObjectId | null;
  promptKey: string;
  count: number;
  lastUsedAt: Date;
}

/** Whether the rollups may be read: `ready` once built; `building` while a build runs; `stale` after a failed update. */
export interface RollupStateRecord {
  _id: string;
  state: 'building' | 'ready' | 'stale';
  buildId: string;
  startedAt: Date;
  finishedAt: Date | null;
  /**
   * What a ready build holds, `ROLLUP_LAYOUT` when it was built: a build of an earlier layout (absent: 1)
   * is built again at start-up.
   */
  layout?: number;
}

const RollupSchema = new Schema<RollupRecord>(
  {
    _id: { type: String, required: true },
    ownerId: { type: Schema.Types.ObjectId, default: null },
    span: { type: String, enum: ['hour', 'day'], required: true },
    start: { type: Date, required: true },
    jobs: { type: Schema.Types.Mixed },
    kinds: { type: Schema.Types.Mixed },
    inputs: { type: Schema.Types.Mixed },
    assets: { type: Schema.Types.Mixed },
    servers: { type: Schema.Types.Mixed },
    failures: { type: Schema.Types.Mixed },
    durations: { type: Schema.Types.Mixed },
  },
  { versionKey: false, collection: 'analytics_rollups' },
);
RollupSchema.index({ ownerId: 1, span: 1, start: 1 });

const PromptRollupSchema = new Schema<PromptRollupRecord>(
  {
    _id: { type: String, required: true },
    ownerId: { type: Schema.Types.ObjectId, default: null },
    promptKey: { type: String, required: true },
    count: { type: Number, required: true },
    lastUsedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'analytics_prompts' },
);
// The most used prompts of a scope, read in index order.
PromptRollupSchema.index({ ownerId: 1, count: -1, lastUsedAt: -1 });
// Everyone's row of a prompt is recomputed from the owners' rows when an owner's jobs go.
PromptRollupSchema.index({ promptKey: 1 });

const RollupStateSchema = new Schema<RollupStateRecord>(
  {
    _id: { type: String, required: true },
    state: { type: String, enum: ['building', 'ready', 'stale'], required: true },
    buildId: { type: String, required: true },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    layout: { type: Number },
  },
  { versionKey: false, collection: 'analytics_rollup_state' },
);

export interface RollupModels {
  rollups: Model<RollupRecord>;
  prompts: Model<PromptRollupRecord>;
  state: Model<RollupStateRecord>;
}

export function rollupModels(connection: Connection): RollupModels {
  return {
    rollups: connection.model('AnalyticsRollup', RollupSchema),
    prompts: connection.model('AnalyticsPromptRollup', PromptRollupSchema),
    state: connection.model('AnalyticsRollupState', RollupStateSchema),
  };
}
