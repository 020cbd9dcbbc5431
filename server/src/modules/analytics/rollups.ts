import { randomUUID } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';
import type { AnyBulkWriteOperation } from 'mongodb';
import type { Types } from 'mongoose';

import { Conflict } from '../../domain-errors.js';
import { groupCommit } from '../../infra/group-commit.js';
import type { JobModel } from '../../jobs/job-model.js';
import type { JobTransition } from '../../jobs/transitions.js';
import type { AssetModel } from '../assets/model.js';
import type { ChatModel } from '../chats/model.js';
import type { MessageModel } from '../messages/model.js';
import { RollupDelta, type AssetFacts, type JobFacts, type RollupChange } from './rollup-increments.js';
import type { PromptRollupRecord, RollupModels, RollupRecord, RollupStateRecord } from './rollup-model.js';
import { hasWrittenPrompt, WRITTEN_PROMPT } from './written-prompts.js';

const STATE_ID = 'rollups';
/** A build not finished after this long is taken as abandoned (its instance stopped) and may be redone. */
const BUILD_LEASE_MS = 10 * 60_000;
const BATCH = 1_000;
const BUILD_RUNNING = 'The analytics rollups are being built; try again when that ends';
const DUPLICATE_KEY = 11000;
/**
 * What a build holds; a ready build of an earlier layout is built again at start-up. 2: chats count their
 * own messages (the analytics_chats collection of layout 1 is dropped).
 */
const ROLLUP_LAYOUT = 2;
/** Layout 1's rows of the most active chats, now counted on the chats themselves. */
const LEGACY_CHAT_ROLLUPS = 'analytics_chats';

/** What a rebuild counted. */
export interface RollupBuild {
  jobs: number;
  assets: number;
  rollups: number;
  prompts: number;
  chats: number;
}

/**
 * Pre-aggregated analytics, kept up to date by the code paths that change jobs and assets: each change is
 * one `$inc` upsert per touched rollup document (commutative, so instances may apply them in any order).
 */
export interface AnalyticsRollups {
  /** True when the rollups were built and no update of them failed since: analytics may read them. */
  readable(): Promise<boolean>;
  /** A new job. */
  jobCreated(job: JobFacts & { prompt: string; promptKey: string }): Promise<void>;
  /**
   * A job transition that applied: the job as it was before is the job after it in the state the
   * transition's filter names (every queue transition starts from one queued or running state), unless
   * `before` is given.
   */
  jobChanged(transition: JobTransition, after: JobFacts, before?: JobFacts): Promise<void>;
  /** Every job of the owner was deleted (account deletion). */
  ownerJobsDeleted(ownerId: Types.ObjectId): Promise<void>;
  assetsAdded(assets: AssetFacts[]): Promise<void>;
  assetsRemoved(assets: AssetFacts[]): Promise<void>;
  /** Builds the rollups at start-up if they never were (or a build was abandoned, or an update failed). */
  ensureBuilt(): Promise<RollupBuild | undefined>;
  /** Recomputes every rollup from the jobs and assets (an admin's repair); refused while a build runs. */
  rebuild(): Promise<RollupBuild>;
}

export interface RollupDeps extends RollupModels {
  jobs: JobModel;
  /** Each chat counts its own messages (the most active chats); a build recounts them. */
  chats: ChatModel;
  assets: AssetModel;
  messages: MessageModel;
  log: FastifyBaseLogger;
}

/** An update of one rollup document (`T`), by its string id. */
interface Operation<T> {
  updateOne: {
    filter: { _id: string } & Partial<Record<keyof T, unknown>>;
    update: Record<string, unknown>;
    upsert?: boolean;
  };
}

function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === DUPLICATE_KEY;
}

/** The ops of a failed unordered bulk write that failed on a duplicate key (two upserts of one new document). */
function duplicateIndexes(error: unknown): number[] | undefined {
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  if (!Array.isArray(writeErrors)) return isDuplicateKey(error) ? undefined : [];
  const failed = writeErrors as Array<{ code?: unknown; index?: unknown }>;
  if (!failed.every((entry) => entry.code === DUPLICATE_KEY && typeof entry.index === 'number')) return [];
  return failed.map((entry) => entry.index as number);
}

/**
 * Runs upserts unordered; those that raced another upsert of the same new document (a duplicate key) are
 * run again, now finding it. Any other failure is thrown.
 */
async function upsertAll<T>(
  write: (operations: Operation<T>[]) => Promise<unknown>,
  operations: Operation<T>[],
): Promise<void> {
  let pending = operations;
  for (let round = 0; pending.length > 0; round += 1) {
    try {
      await write(pending);
      return;
    } catch (error) {
      const again = duplicateIndexes(error);
      if (round >= 3 || (again !== undefined && again.length === 0)) throw error;
      pending = again === undefined ? pending : again.map((index) => pending[index] as Operation<T>);
    }
  }
}

function rollupUpsert(change: RollupChange, id: string): Operation<RollupRecord> {
  return {
    updateOne: {
      filter: { _id: id },
      update: {
        $inc: Object.fromEntries(change.inc),
        $setOnInsert: { ownerId: change.ownerId, span: change.span, start: change.start },
      },
      upsert: true,
    },
  };
}

const promptId = (ownerId: Types.ObjectId | null, promptKey: string) =>
  `${ownerId ? ownerId.toHexString() : '*'}|${promptKey}`;

/** Uses of one prompt by one owner (or by everyone: ownerId null). */
interface PromptUse {
  ownerId: Types.ObjectId | null;
  promptKey: string;
  count: number;
  lastUsedAt: Date;
}

/** The uses of each prompt row summed: one upsert per row. */
function promptUpserts(uses: PromptUse[]): Operation<PromptRollupRecord>[] {
  const rows = new Map<string, PromptUse>();
  for (const use of uses) {
    const id = promptId(use.ownerId, use.promptKey);
    const row = rows.get(id);
    if (!row) rows.set(id, { ...use });
    else {
      row.count += use.count;
      if (use.lastUsedAt > row.lastUsedAt) row.lastUsedAt = use.lastUsedAt;
    }
  }
  return [...rows.values()].map((row) => promptUpsert(row.ownerId, row.promptKey, row.count, row.lastUsedAt));
}

function promptUpsert(
  ownerId: Types.ObjectId | null,
  promptKey: string,
  count: number,
  lastUsedAt: Date,
): Operation<PromptRollupRecord> {
  return {
    updateOne: {
      filter: { _id: promptId(ownerId, promptKey) },
      update: { $inc: { count }, $max: { lastUsedAt }, $setOnInsert: { ownerId, promptKey } },
      upsert: true,
    },
  };
}

const JOB_FIELDS = {
  ownerId: 1,
  createdAt: 1,
  status: 1,
  kind: 1,
  inputType: 1,
  'params.modelServer': 1,
  'error.code': 1,
  computeMs: 1,
} as const;

export function createAnalyticsRollups({
  rollups,
  prompts,
  chats,
  state,
  jobs,
  assets,
  messages,
  log,
}: RollupDeps): AnalyticsRollups {
  const writeRollups = (operations: Operation<RollupRecord>[]) =>
    rollups.collection.bulkWrite(operations as unknown as AnyBulkWriteOperation[], { ordered: false });
  const writePrompts = (operations: Operation<PromptRollupRecord>[]) =>
    prompts.collection.bulkWrite(operations as unknown as AnyBulkWriteOperation[], { ordered: false });

  /** After a failed update the rollups are off by it: analytics read the jobs again until a rebuild. */
  async function markStale(error: unknown): Promise<void> {
    log.error(
      { err: error },
      'updating the analytics rollups failed; analytics read the jobs until a rebuild',
    );
    await state
      .updateOne({ _id: STATE_ID }, { $set: { state: 'stale' } })
      .catch((stateError: unknown) =>
        log.error({ err: stateError }, 'marking the analytics rollups stale failed'),
      );
  }

  // Changes that arrive while a write of them is under way go together in the next write: under load, the
  // changes of many jobs share one round trip and one update per rollup document.
  const writeDeltas = groupCommit<RollupDelta>(async (deltas) => {
    const changes = deltas.reduce((sum, delta) => sum.include(delta), new RollupDelta()).nonZero();
    if (changes.length > 0)
      await upsertAll(
        writeRollups,
        changes.map(([id, change]) => rollupUpsert(change, id)),
      );
  });
  const writePromptUses = groupCommit<PromptUse[]>((uses) =>
    upsertAll(writePrompts, promptUpserts(uses.flat())),
  );

  async function apply(delta: RollupDelta, promptUses: PromptUse[] = []): Promise<void> {
    try {
      await Promise.all([
        delta.changes.size > 0 && writeDeltas(delta),
        promptUses.length > 0 && writePromptUses(promptUses),
      ]);
    } catch (error) {
      await markStale(error);
    }
  }

  /** Claims the build: from `expected` (absent, or the state read) to a new build of this instance. */
  async function claimBuild(
    expected: Pick<RollupStateRecord, 'buildId' | 'state'> | undefined,
  ): Promise<string | undefined> {
    const buildId = randomUUID();
    const building = { state: 'building' as const, buildId, startedAt: new Date(), finishedAt: null };
    try {
      if (!expected) {
        await state.create({ _id: STATE_ID, ...building });
        return buildId;
      }
      const claimed = await state.findOneAndUpdate(
        { _id: STATE_ID, buildId: expected.buildId, state: expected.state },
        { $set: building },
      );
      return claimed ? buildId : undefined;
    } catch (error) {
      if (isDuplicateKey(error)) return undefined;
      throw error;
    }
  }

  /**
   * Sets each chat's message count and latest message time from its messages; answers how many chats have
   * messages. Messages added while it runs may be counted twice or not at all, as in the rest of a build.
   */
  async function recountChats(): Promise<number> {
    const counted = await messages.aggregate<{ _id: Types.ObjectId; messages: number; lastMessageAt: Date }>([
      { $group: { _id: '$chatId', messages: { $sum: 1 }, lastMessageAt: { $max: '$createdAt' } } },
    ]);
    const withMessages = new Set(counted.map((row) => row._id.toHexString()));
    const emptied = (
      await chats.find({ messageCount: { $ne: 0 } }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>()
    )
      .filter((chat) => !withMessages.has(chat._id.toHexString()))
      .map((chat) => ({
        updateOne: { filter: { _id: chat._id }, update: { $set: { messageCount: 0, lastMessageAt: null } } },
      }));
    const recounted = counted.map((row) => ({
      updateOne: {
        filter: { _id: row._id },
        update: { $set: { messageCount: row.messages, lastMessageAt: row.lastMessageAt } },
      },
    }));
    const operations = [...recounted, ...emptied];
    for (let start = 0; start < operations.length; start += BATCH)
      // A recount is no activity of the chat: its updatedAt (the chat list's order) stays.
      await chats.bulkWrite(operations.slice(start, start + BATCH), { ordered: false, timestamps: false });
    return counted.length;
  }

  async function dropLegacyChatRollups(): Promise<void> {
    const database = chats.db.db;
    if (!database) return;
    const legacy = await database
      .listCollections({ name: LEGACY_CHAT_ROLLUPS }, { nameOnly: true })
      .toArray();
    if (legacy.length > 0) await database.dropCollection(LEGACY_CHAT_ROLLUPS);
  }

  /** Counts every job and asset into empty rollups, then lets analytics read them if the build is still this one. */
  async function build(buildId: string): Promise<RollupBuild> {
    await Promise.all([rollups.deleteMany({}), prompts.deleteMany({}), dropLegacyChatRollups()]);
    const counted: RollupBuild = { jobs: 0, assets: 0, rollups: 0, prompts: 0, chats: 0 };
    const delta = new RollupDelta();
    for await (const job of jobs.find({}, JOB_FIELDS).lean<JobFacts[]>().cursor()) {
      delta.job(job, 1);
      counted.jobs += 1;
    }
    for await (const asset of assets
      .find({}, { ownerId: 1, createdAt: 1, bytes: 1 })
      .lean<AssetFacts[]>()
      .cursor()) {
      delta.asset(asset, 1);
      counted.assets += 1;
    }
    const operations = delta.nonZero();
    for (let start = 0; start < operations.length; start += BATCH)
      await upsertAll(
        writeRollups,
        operations.slice(start, start + BATCH).map(([id, change]) => rollupUpsert(change, id)),
      );
    counted.rollups = operations.length;
    // The prompt key as the pipelines compute it, for jobs queued before prompt keys existed.
    const key = { $ifNull: ['$promptKey', { $toLower: { $trim: { input: '$prompt' } } }] };
    const [owned, everyone] = await Promise.all([
      jobs.aggregate<{ _id: { ownerId: Types.ObjectId; key: string }; count: number; lastUsedAt: Date }>([
        { $match: WRITTEN_PROMPT },
        {
          $group: {
            _id: { ownerId: '$ownerId', key },
            count: { $sum: 1 },
            lastUsedAt: { $max: '$createdAt' },
          },
        },
      ]),
      jobs.aggregate<{ _id: string; count: number; lastUsedAt: Date }>([
        { $match: WRITTEN_PROMPT },
        { $group: { _id: key, count: { $sum: 1 }, lastUsedAt: { $max: '$createdAt' } } },
      ]),
    ]);
    const promptOps = [
      ...owned.map((row) => promptUpsert(row._id.ownerId, row._id.key, row.count, row.lastUsedAt)),
      ...everyone.map((row) => promptUpsert(null, row._id, row.count, row.lastUsedAt)),
    ];
    for (let start = 0; start < promptOps.length; start += BATCH)
      await upsertAll(writePrompts, promptOps.slice(start, start + BATCH));
    counted.prompts = promptOps.length;
    counted.chats = await recountChats();
    const finished = await state.updateOne(
      { _id: STATE_ID, buildId, state: 'building' },
      { $set: { state: 'ready', finishedAt: new Date(), layout: ROLLUP_LAYOUT } },
    );
    if (finished.modifiedCount === 0)
      log.warn(
        'the analytics rollups changed while they were built; analytics read the jobs until a rebuild',
      );
    return counted;
  }

  /** Everyone's row of each prompt gets its latest use again from the owners' rows that remain. */
  async function refreshLastUse(promptKeys: string[]): Promise<void> {
    for (const promptKey of promptKeys) {
      // Compare-and-set: a job queued meanwhile may have moved the row on, and its use is then the latest.
      for (;;) {
        const row = await prompts.findById(promptId(null, promptKey)).lean<PromptRollupRecord>();
        if (!row) break;
        if (row.count <= 0) {
          await prompts.deleteOne({ _id: row._id, count: { $lte: 0 } });
          break;
        }
        const [latest] = await prompts
          .find({ promptKey, ownerId: { $ne: null } }, { lastUsedAt: 1 })
          .sort({ lastUsedAt: -1 })
          .limit(1)
          .lean<Array<Pick<PromptRollupRecord, 'lastUsedAt'>>>();
        if (!latest) break;
        const set = await prompts.updateOne(
          { _id: row._id, lastUsedAt: row.lastUsedAt },
          { $set: { lastUsedAt: latest.lastUsedAt } },
        );
        if (set.matchedCount === 1) break;
      }
    }
  }

  return {
    async readable() {
      const current = await state.findById(STATE_ID, { state: 1, layout: 1 }).lean();
      return current?.state === 'ready' && (current.layout ?? 1) >= ROLLUP_LAYOUT;
    },

    async jobCreated(job) {
      await apply(
        new RollupDelta().job(job, 1),
        hasWrittenPrompt(job)
          ? [
              { ownerId: job.ownerId, promptKey: job.promptKey, count: 1, lastUsedAt: job.createdAt },
              { ownerId: null, promptKey: job.promptKey, count: 1, lastUsedAt: job.createdAt },
            ]
          : [],
      );
    },

    async jobChanged(transition, after, before) {
      const from = before ?? { ...after, status: transition.filter.status as string };
      if (typeof from.status !== 'string') {
        await markStale(new Error('a job transition without a known state before it'));
        return;
      }
      const unchanged =
        from.status === after.status && from.status !== 'failed' && from.status !== 'succeeded';
      if (unchanged) return;
      await apply(new RollupDelta().job(from, -1).job(after, 1));
    },

    async ownerJobsDeleted(ownerId) {
      try {
        const owned = await rollups.find({ ownerId }).lean<RollupRecord[]>();
        const delta = new RollupDelta();
        const removal: Operation<RollupRecord>[] = [];
        for (const record of owned) {
          const inc = new Map<string, number>();
          for (const field of ['jobs', 'kinds', 'inputs', 'failures', 'durations'] as const)
            for (const [name, count] of Object.entries(record[field] ?? {}))
              inc.set(`${field}.${name}`, -(count ?? 0));
          for (const [server, figures] of Object.entries(record.servers ?? {}))
            for (const [figure, value] of Object.entries(figures ?? {}))
              inc.set(`servers.${server}.${figure}`, -(value ?? 0));
          // Everyone's rollup of the same hour or day loses exactly what this owner's held.
          const ownerInc = new Map([...inc].map(([path, amount]) => [path, amount]));
          delta.changes.set(`*|${record._id.split('|').slice(1).join('|')}`, {
            ownerId: null,
            span: record.span,
            start: record.start,
            inc,
          });
          removal.push(rollupUpsert({ ...record, inc: ownerInc }, record._id));
        }
        await upsertAll(writeRollups, removal);
        await apply(delta);
        const ownedPrompts = await prompts.find({ ownerId }).lean<PromptRollupRecord[]>();
        await prompts.deleteMany({ ownerId });
        if (ownedPrompts.length > 0) {
          await upsertAll(
            writePrompts,
            ownedPrompts.map((row) => ({
              updateOne: {
                filter: { _id: promptId(null, row.promptKey) },
                update: { $inc: { count: -row.count } },
              },
            })),
          );
          await refreshLastUse(ownedPrompts.map((row) => row.promptKey));
        }
      } catch (error) {
        await markStale(error);
      }
    },

    async assetsAdded(added) {
      const delta = new RollupDelta();
      for (const asset of added) delta.asset(asset, 1);
      await apply(delta);
    },

    async assetsRemoved(removed) {
      const delta = new RollupDelta();
      for (const asset of removed) delta.asset(asset, -1);
      await apply(delta);
    },

    async ensureBuilt() {
      const current = await state.findById(STATE_ID).lean();
      if (current?.state === 'ready' && (current.layout ?? 1) >= ROLLUP_LAYOUT) return undefined;
      if (current?.state === 'building' && Date.now() - current.startedAt.getTime() < BUILD_LEASE_MS)
        return undefined;
      const buildId = await claimBuild(current ?? undefined);
      if (!buildId) return undefined;
      const counted = await build(buildId);
      log.info(counted, 'analytics rollups built');
      return counted;
    },

    async rebuild() {
      const current = await state.findById(STATE_ID).lean();
      if (current?.state === 'building' && Date.now() - current.startedAt.getTime() < BUILD_LEASE_MS)
        throw new Conflict(BUILD_RUNNING);
      const buildId = await claimBuild(current ?? undefined);
      if (!buildId) throw new Conflict(BUILD_RUNNING);
      return build(buildId);
    },
  };
}
