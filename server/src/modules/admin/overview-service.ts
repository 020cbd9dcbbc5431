import { Types, type QueryFilter } from 'mongoose';
import type { z } from 'zod';

import type {
  TAdminJob,
  TAdminJobList,
  TAdminStats,
  TAdminUserDetail,
  ZListAdminJobsInput,
} from '@gen3d/shared';

import { onPage, paginationOf } from '../../db/paging.js';
import { NotFound } from '../../domain-errors.js';
import { escapeRegExp } from '../../infra/regexp.js';
import type { JobModel, JobRecord } from '../../jobs/job-model.js';
import type { TotalsOf } from '../analytics/totals.js';
import type { AssetService } from '../assets/service.js';
import type { AuthModels } from '../auth/model.js';
import type { AuthenticatedUser } from '../auth/session-service.js';
import type { ChatModel } from '../chats/model.js';
import { jobView } from '../generation/job-view.js';
import type { MessageModel } from '../messages/model.js';
import type { UserDirectory } from '../users/directory-service.js';
import type { UserModel } from '../users/model.js';

export interface AdminOverviewDeps {
  users: UserModel;
  directory: UserDirectory;
  jobs: JobModel;
  assetService: AssetService;
  chats: ChatModel;
  messages: MessageModel;
  refreshFamilies: AuthModels['RefreshFamily'];
  /** Jobs and assets counted from the analytics rollups (or the records while they cannot be read). */
  totals: TotalsOf;
}

export interface AdminOverviewService {
  /** Counts across the system, the queue's state per instance, and the newest users and jobs. */
  stats(): Promise<TAdminStats>;
  /** One user with how much they own and how many sessions they hold. */
  userDetail(viewer: AuthenticatedUser, userId: string): Promise<TAdminUserDetail>;
  /** Every user's jobs, newest first, filtered. */
  listJobs(input: z.output<typeof ZListAdminJobsInput>): Promise<TAdminJobList>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function createAdminOverviewService(deps: AdminOverviewDeps): AdminOverviewService {
  const { users, jobs, chats, messages } = deps;
  const adminJob = (job: JobRecord): TAdminJob => ({
    ...jobView(job, deps.assetService),
    ownerId: job.ownerId.toHexString(),
    claimedBy: job.claimedBy ?? null,
  });
  return {
    async stats() {
      const now = Date.now();
      const [
        total,
        verified,
        deactivated,
        active24h,
        active7d,
        plainUsers,
        admins,
        moderators,
        systemTotals,
        oldestQueued,
        running,
        chatTotal,
        messageTotal,
        recentUsers,
        recentJobs,
      ] = await Promise.all([
        users.countDocuments({}),
        users.countDocuments({ emailVerified: true }),
        users.countDocuments({ active: false }),
        users.countDocuments({ lastActiveAt: { $gte: new Date(now - DAY_MS) } }),
        users.countDocuments({ lastActiveAt: { $gte: new Date(now - 7 * DAY_MS) } }),
        users.countDocuments({ roles: 'user' }),
        users.countDocuments({ roles: 'admin' }),
        users.countDocuments({ roles: 'moderator' }),
        deps.totals({ ownerId: undefined }),
        jobs
          .findOne({ status: 'queued' }, { createdAt: 1 })
          .sort({ createdAt: 1 })
          .lean<{ createdAt: Date }>(),
        jobs.aggregate<{ _id: string | null; running: number }>([
          { $match: { status: 'running' } },
          { $group: { _id: '$leaseOwner', running: { $sum: 1 } } },
          { $sort: { _id: 1 } },
        ]),
        chats.estimatedDocumentCount(),
        messages.estimatedDocumentCount(),
        deps.directory.list({ page: 1, limit: 5 }),
        jobs.find({}).sort({ createdAt: -1, _id: -1 }).limit(10).lean<JobRecord[]>(),
      ]);
      const { jobs: jobCounts, assets: assetTotal } = systemTotals;
      const { total: jobTotal, ...byStatus } = jobCounts.byStatus;
      return {
        users: {
          total,
          verified,
          deactivated,
          active24h,
          active7d,
          byRole: { user: plainUsers, moderator: moderators, admin: admins },
        },
        jobs: {
          total: jobTotal,
          byStatus,
          byKind: jobCounts.byKind,
          byInputType: jobCounts.byInputType,
          queueDepth: byStatus.queued,
          oldestQueuedAgeSeconds: oldestQueued
            ? Math.max(0, Math.round((now - oldestQueued.createdAt.getTime()) / 1000))
            : null,
          runningByInstance: running.map((row) => ({ instance: row._id ?? 'unknown', running: row.running })),
        },
        assets: assetTotal,
        chats: { total: chatTotal },
        messages: { total: messageTotal },
        recent: { users: recentUsers.users, jobs: recentJobs.map(adminJob) },
      };
    },

    async userDetail(viewer, userId) {
      const ownerId = new Types.ObjectId(userId);
      const record = await users.findById(ownerId, { lastActiveAt: 1 }).lean();
      if (!record) throw new NotFound('User not found');
      const [user, chatCount, messageCount, owned, activeSessions] = await Promise.all([
        deps.directory.accountView(viewer, userId),
        chats.countDocuments({ ownerId }),
        messages.countDocuments({ ownerId }),
        deps.totals({ ownerId }),
        deps.refreshFamilies.countDocuments({
          userId: ownerId,
          revokedAt: null,
          expiresAt: { $gt: new Date() },
        }),
      ]);
      const { total: jobTotal, ...jobsByStatusCounts } = owned.jobs.byStatus;
      const assetTotal = owned.assets;
      return {
        user,
        lastActiveAt: record.lastActiveAt?.toISOString() ?? null,
        counts: {
          chats: chatCount,
          messages: messageCount,
          jobs: jobTotal,
          jobsByStatus: jobsByStatusCounts,
          assets: assetTotal.total,
          assetBytes: assetTotal.bytes,
          activeSessions,
        },
      };
    },

    async listJobs({ page, limit, status, userId, modelServer, search }) {
      const filter: QueryFilter<JobRecord> = {
        ...(status ? { status } : {}),
        ...(userId ? { ownerId: new Types.ObjectId(userId) } : {}),
        ...(modelServer ? { 'params.modelServer': modelServer } : {}),
        ...(search ? { prompt: { $regex: escapeRegExp(search), $options: 'i' } } : {}),
      };
      const [total, found] = await Promise.all([
        jobs.countDocuments(filter),
        onPage(jobs.find(filter).sort({ createdAt: -1, _id: -1 }), { page, limit }).lean<JobRecord[]>(),
      ]);
      return {
        jobs: found.map(adminJob),
        pagination: paginationOf({ page, limit }, total),
      };
    },
  };
}
