import type { Types } from 'mongoose';

import {
  type TAnalyticsStats,
  type TChatStats,
  type TDashboard,
  type TGenerationMetrics,
  type TPopularPrompts,
} from '@gen3d/shared';

import type { JobModel, JobRecord } from '../../jobs/job-model.js';
import { countByStatus } from '../../jobs/status-counts.js';
import type { AssetModel } from '../assets/model.js';
import type { AssetService } from '../assets/service.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import type { ChatModel } from '../chats/model.js';
import { jobView } from '../generation/job-view.js';
import type { MessageModel } from '../messages/model.js';
import { dayWindow } from './calendar.js';
import type { RollupModels } from './rollup-model.js';
import { createRollupReads, histogramPercentiles, type StatusRow } from './rollup-reads.js';
import type { AnalyticsRollups, RollupBuild } from './rollups.js';
import { ownedBy, type AnalyticsScope } from './scope.js';
import type { TotalsOf } from './totals.js';
import { WRITTEN_PROMPT } from './written-prompts.js';

export interface AnalyticsDeps {
  audit: AuditLog;
  rollups: AnalyticsRollups;
  rollupRecords: RollupModels;
  totals: TotalsOf;
  jobs: JobModel;
  assets: AssetModel;
  assetService: AssetService;
  chats: ChatModel;
  messages: MessageModel;
}

/**
 * Job and asset figures come from the rollups (counters per owner and hour or day, kept as jobs change)
 * once they are built; until then, after a failed rollup update, and for time zones whose offset is not a
 * whole number of hours, the database computes them from the jobs and assets (aggregation pipelines on
 * indexed fields). Both give the same answers.
 */
export interface AnalyticsService {
  stats(scope: AnalyticsScope): Promise<TAnalyticsStats>;
  dashboard(scope: AnalyticsScope, days: number, timeZone: string): Promise<TDashboard>;
  generationMetrics(scope: AnalyticsScope, days: number): Promise<TGenerationMetrics>;
  popularPrompts(scope: AnalyticsScope, limit: number): Promise<TPopularPrompts>;
  chatStats(scope: AnalyticsScope): Promise<TChatStats>;
  /** Recomputes the rollups from the jobs and assets (an admin's action, audited). */
  rebuildRollups(actor: Actor): Promise<RollupBuild>;
}

const RECENT_JOBS = 5;
const MOST_ACTIVE_CHATS = 5;

const rate = (succeeded: number, failed: number): number | null =>
  succeeded + failed === 0 ? null : succeeded / (succeeded + failed);
const scopeView = (scope: AnalyticsScope) => ({ userId: scope.ownerId?.toHexString() ?? null });
const countWhere = (field: string, value: string) => ({ $sum: { $cond: [{ $eq: [field, value] }, 1, 0] } });
/** Nearest-rank percentile of a sorted array field `values` holding `n` numbers. */
const percentile = (p: number) => ({
  $arrayElemAt: ['$values', { $max: [0, { $subtract: [{ $ceil: { $multiply: ['$n', p] } }, 1] }] }],
});

/** A prompt (its key) with how often and when last it was used. */
interface PopularRow {
  _id: string;
  count: number;
  lastUsedAt: Date;
}

/** One of the most active chats, with its chat (none when the chat is gone). */
interface ActiveChat {
  _id: Types.ObjectId;
  messages: number;
  lastMessageAt: Date;
  chat: Array<{ title: string }>;
}

interface ServerRow {
  total: number;
  succeeded: number;
  failed: number;
  averageDurationMs: number | null;
}

/** What generation metrics are made of, from the rollups or from the jobs. */
interface GenerationFigures {
  statuses: StatusRow[];
  failures: Map<string, number>;
  servers: Map<string, ServerRow>;
  durations: { average: number | null; p50: number | null; p95: number | null };
}

export function createAnalyticsService({
  audit,
  rollups,
  rollupRecords,
  totals,
  jobs,
  assets,
  assetService,
  chats,
  messages,
}: AnalyticsDeps): AnalyticsService {
  type Owner = { ownerId?: Types.ObjectId };
  const chatCount = (owner: Owner) =>
    owner.ownerId ? chats.countDocuments({ ownerId: owner.ownerId }) : chats.estimatedDocumentCount();
  const messageCount = (owner: Owner) =>
    owner.ownerId ? messages.countDocuments({ ownerId: owner.ownerId }) : messages.estimatedDocumentCount();

  const reads = createRollupReads(rollupRecords);
  /** Jobs and assets per local date, grouped by the database from the records. */
  async function perDayFromRecords(scope: AnalyticsScope, from: Date, timeZone: string) {
    const match = { ...ownedBy(scope), createdAt: { $gte: from } };
    const day = { $dateToString: { format: '%Y-%m-%d', date: '$createdAt', timezone: timeZone } };
    const [jobRows, assetRows] = await Promise.all([
      jobs.aggregate<{ _id: string; count: number; succeeded: number; failed: number }>([
        { $match: match },
        {
          $group: {
            _id: day,
            count: { $sum: 1 },
            succeeded: countWhere('$status', 'succeeded'),
            failed: countWhere('$status', 'failed'),
          },
        },
      ]),
      assets.aggregate<{ _id: string; count: number; bytes: number }>([
        { $match: match },
        { $group: { _id: day, count: { $sum: 1 }, bytes: { $sum: '$bytes' } } },
      ]),
    ]);
    return {
      jobsOn: new Map(jobRows.map((row) => [row._id, row])),
      assetsOn: new Map(assetRows.map((row) => [row._id, row])),
    };
  }

  async function metricsFromRollups(scope: AnalyticsScope, from: Date): Promise<GenerationFigures> {
    const rolledUp = await reads.metrics(scope.ownerId, from);
    let msSum = 0;
    let msCount = 0;
    const servers = new Map<string, ServerRow>();
    for (const [name, server] of rolledUp.servers) {
      msSum += server.msSum;
      msCount += server.msCount;
      servers.set(name, {
        total: server.total,
        succeeded: server.succeeded,
        failed: server.failed,
        averageDurationMs: server.msCount === 0 ? null : server.msSum / server.msCount,
      });
    }
    const [p50, p95] = histogramPercentiles(rolledUp.durations, [0.5, 0.95]);
    return {
      statuses: rolledUp.statuses,
      failures: rolledUp.failures,
      servers,
      durations: { average: msCount === 0 ? null : msSum / msCount, p50: p50 ?? null, p95: p95 ?? null },
    };
  }

  async function metricsFromRecords(scope: AnalyticsScope, from: Date): Promise<GenerationFigures> {
    const match = { ...ownedBy(scope), createdAt: { $gte: from } };
    // One pass counts jobs per status, model server and error code; the other ranks durations.
    const [cells, durationRows] = await Promise.all([
      jobs.aggregate<{
        _id: { status: string; server?: string; code?: string };
        count: number;
        averageMs: number | null;
      }>([
        { $match: match },
        {
          $group: {
            _id: { status: '$status', server: '$params.modelServer', code: '$error.code' },
            count: { $sum: 1 },
            averageMs: { $avg: '$computeMs' },
          },
        },
      ]),
      jobs.aggregate<{ average: number; p50: number; p95: number }>([
        { $match: { ...match, status: 'succeeded', computeMs: { $type: 'number' } } },
        { $sort: { computeMs: 1 } },
        {
          $group: {
            _id: null,
            values: { $push: '$computeMs' },
            n: { $sum: 1 },
            average: { $avg: '$computeMs' },
          },
        },
        { $project: { _id: 0, average: 1, p50: percentile(0.5), p95: percentile(0.95) } },
      ]),
    ]);
    const failures = new Map<string, number>();
    // Succeeded jobs have no error code: one cell per model server holds all of them, and its average.
    const servers = new Map<string, ServerRow>();
    for (const { _id: cell, count, averageMs } of cells) {
      if (cell.status === 'failed')
        failures.set(cell.code ?? 'UNKNOWN', (failures.get(cell.code ?? 'UNKNOWN') ?? 0) + count);
      const server = servers.get(cell.server ?? 'unknown') ?? {
        total: 0,
        succeeded: 0,
        failed: 0,
        averageDurationMs: null,
      };
      server.total += count;
      if (cell.status === 'succeeded') {
        server.succeeded += count;
        server.averageDurationMs = averageMs ?? null;
      }
      if (cell.status === 'failed') server.failed += count;
      servers.set(cell.server ?? 'unknown', server);
    }
    const durations = durationRows[0];
    return {
      statuses: cells.map((cell) => ({ _id: cell._id.status, count: cell.count })),
      failures,
      servers,
      durations: {
        average: durations?.average ?? null,
        p50: durations?.p50 ?? null,
        p95: durations?.p95 ?? null,
      },
    };
  }

  async function popularFromRollups(scope: AnalyticsScope, limit: number): Promise<PopularRow[]> {
    const rows = await reads.popularPrompts(scope.ownerId, limit);
    return rows.map((row) => ({ _id: row.promptKey, count: row.count, lastUsedAt: row.lastUsedAt }));
  }

  function popularFromRecords(owner: Record<string, unknown>, limit: number): Promise<PopularRow[]> {
    return jobs.aggregate<PopularRow>([
      { $match: owner },
      // Jobs queued before prompt keys existed are keyed on the spot (spacing inside is kept as it was).
      {
        $group: {
          _id: { $ifNull: ['$promptKey', { $toLower: { $trim: { input: '$prompt' } } }] },
          count: { $sum: 1 },
          lastUsedAt: { $max: '$createdAt' },
        },
      },
      { $sort: { count: -1, lastUsedAt: -1 } },
      { $limit: limit },
    ]);
  }

  /** The chats' own message counts, read in index order (chats of no messages sort last and are left out). */
  async function mostActiveFromCounts(scope: AnalyticsScope): Promise<ActiveChat[]> {
    const rows = await chats
      .find(scope.ownerId ? { ownerId: scope.ownerId } : {}, { title: 1, messageCount: 1, lastMessageAt: 1 })
      .sort({ messageCount: -1, lastMessageAt: -1 })
      .limit(MOST_ACTIVE_CHATS)
      .lean<
        Array<{ _id: Types.ObjectId; title: string; messageCount: number; lastMessageAt: Date | null }>
      >();
    return rows.flatMap((row) =>
      row.messageCount > 0 && row.lastMessageAt
        ? [
            {
              _id: row._id,
              messages: row.messageCount,
              lastMessageAt: row.lastMessageAt,
              chat: [{ title: row.title }],
            },
          ]
        : [],
    );
  }

  function mostActiveFromRecords(owner: { ownerId?: Types.ObjectId }): Promise<ActiveChat[]> {
    return messages.aggregate<ActiveChat>([
      { $match: owner },
      { $group: { _id: '$chatId', messages: { $sum: 1 }, lastMessageAt: { $max: '$createdAt' } } },
      { $sort: { messages: -1, lastMessageAt: -1 } },
      { $limit: MOST_ACTIVE_CHATS },
      {
        $lookup: {
          from: chats.collection.collectionName,
          localField: '_id',
          foreignField: '_id',
          as: 'chat',
        },
      },
    ]);
  }

  return {
    async rebuildRollups(actor) {
      const counted = await rollups.rebuild();
      await audit.record({
        action: 'analytics.rollups_rebuilt',
        actor,
        target: { type: 'analytics', id: 'rollups', label: 'analytics rollups' },
        details: { ...counted },
      });
      return counted;
    },

    async stats(scope) {
      const owner = ownedBy(scope);
      const [counted, chatTotal, messageTotal, recent] = await Promise.all([
        totals(scope),
        chatCount(owner),
        messageCount(owner),
        jobs.find(owner).sort({ createdAt: -1, _id: -1 }).limit(RECENT_JOBS).lean<JobRecord[]>(),
      ]);
      return {
        scope: scopeView(scope),
        jobs: counted.jobs.byStatus,
        jobsByKind: counted.jobs.byKind,
        jobsByInputType: counted.jobs.byInputType,
        assets: counted.assets,
        chats: { total: chatTotal },
        messages: { total: messageTotal },
        recent: { jobs: recent.map((job) => jobView(job, assetService)) },
      };
    },

    async dashboard(scope, days, timeZone) {
      const { from, dates } = dayWindow(days, timeZone);
      const rolledUp = (await rollups.readable())
        ? await reads.perDay(scope.ownerId, from, timeZone)
        : undefined;
      const { jobsOn, assetsOn } = rolledUp
        ? {
            jobsOn: rolledUp,
            assetsOn: new Map(
              [...rolledUp].map(([date, day]) => [date, { count: day.assets, bytes: day.bytes }]),
            ),
          }
        : await perDayFromRecords(scope, from, timeZone);
      const jobsPerDay = dates.map((date) => ({
        date,
        count: jobsOn.get(date)?.count ?? 0,
        succeeded: jobsOn.get(date)?.succeeded ?? 0,
        failed: jobsOn.get(date)?.failed ?? 0,
      }));
      const assetsPerDay = dates.map((date) => ({
        date,
        count: assetsOn.get(date)?.count ?? 0,
        bytes: assetsOn.get(date)?.bytes ?? 0,
      }));
      return {
        scope: scopeView(scope),
        days,
        timeZone,
        from: from.toISOString(),
        jobsPerDay,
        assetsPerDay,
        totals: {
          jobs: jobsPerDay.reduce((sum, row) => sum + row.count, 0),
          assets: assetsPerDay.reduce((sum, row) => sum + row.count, 0),
        },
      };
    },
    async generationMetrics(scope, days) {
      const { from } = dayWindow(days, 'UTC');
      const figures = (await rollups.readable())
        ? await metricsFromRollups(scope, from)
        : await metricsFromRecords(scope, from);
      const jobCounts = countByStatus(figures.statuses);
      return {
        scope: scopeView(scope),
        days,
        from: from.toISOString(),
        jobs: jobCounts,
        successRate: rate(jobCounts.succeeded, jobCounts.failed),
        durationMs: figures.durations,
        failuresByCode: [...figures.failures]
          .map(([code, count]) => ({ code, count }))
          .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
        byModelServer: [...figures.servers]
          .map(([modelServer, row]) => ({
            modelServer,
            total: row.total,
            succeeded: row.succeeded,
            failed: row.failed,
            successRate: rate(row.succeeded, row.failed),
            averageDurationMs: row.averageDurationMs,
          }))
          .sort((a, b) => b.total - a.total || a.modelServer.localeCompare(b.modelServer)),
      };
    },

    async popularPrompts(scope, limit) {
      // Prompts users wrote: not an image job's empty one, nor the source's prompt a post-processing job repeats.
      const owner = { ...ownedBy(scope), ...WRITTEN_PROMPT };
      const [popular, recent] = await Promise.all([
        rollups
          .readable()
          .then((fromRollups) =>
            fromRollups ? popularFromRollups(scope, limit) : popularFromRecords(owner, limit),
          ),
        jobs
          .find(owner, { prompt: 1, status: 1, createdAt: 1 })
          .sort({ createdAt: -1, _id: -1 })
          .limit(limit)
          .lean<Array<Pick<JobRecord, '_id' | 'prompt' | 'status' | 'createdAt'>>>(),
      ]);
      return {
        scope: scopeView(scope),
        popular: popular.map((row) => ({
          prompt: row._id,
          count: row.count,
          lastUsedAt: row.lastUsedAt.toISOString(),
        })),
        recent: recent.map((job) => ({
          jobId: job._id.toHexString(),
          prompt: job.prompt,
          status: job.status,
          createdAt: job.createdAt.toISOString(),
        })),
      };
    },

    async chatStats(scope) {
      const owner = ownedBy(scope);
      const [chatTotal, messageTotal, active] = await Promise.all([
        chatCount(owner),
        messageCount(owner),
        rollups
          .readable()
          .then((fromRollups) => (fromRollups ? mostActiveFromCounts(scope) : mostActiveFromRecords(owner))),
      ]);
      return {
        scope: scopeView(scope),
        chats: chatTotal,
        messages: messageTotal,
        messagesPerChat: chatTotal === 0 ? 0 : Math.round((messageTotal / chatTotal) * 100) / 100,
        mostActive: active.map((row) => ({
          chatId: row._id.toHexString(),
          title: row.chat[0]?.title ?? '',
          messages: row.messages,
          lastMessageAt: row.lastMessageAt.toISOString(),
        })),
      };
    },
  };
}
