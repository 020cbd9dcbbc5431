import { z } from 'zod';

import {
  ZAdminJobList,
  ZAdminStats,
  ZAdminUserDetail,
  ZAdminUserResult,
  ZAuditList,
  ZDeleteUserInput,
  ZDeleteUserResult,
  ZListAdminJobsInput,
  ZListAuditInput,
  ZListUsersInput,
  ZModelServerHealthList,
  ZSetRolesInput,
  ZUserIdInput,
  ZUserList,
} from '@gen3d/shared';

import { router, withRole } from '../../trpc/trpc.js';
import { adminApiKeysRouter } from '../api-keys/router.js';

const tags = ['admin'];

const usersRouter = router({
  list: withRole('admin', 'moderator')
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/users',
        tags,
        summary: 'Users, newest first, with search and role/active/verified filters (admins and moderators)',
        protect: true,
      },
    })
    .input(ZListUsersInput)
    .output(ZUserList)
    .query(({ ctx, input }) => ctx.services.users.directory.list(input)),

  get: withRole('admin', 'moderator')
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/users/{id}',
        tags,
        summary:
          'One user with what they own (chats, messages, jobs by status, assets and bytes) and their open sessions (admins and moderators)',
        protect: true,
      },
    })
    .input(ZUserIdInput)
    .output(ZAdminUserDetail)
    .query(({ ctx, input }) => ctx.services.adminOverview.userDetail(ctx.user, input.id)),

  setRoles: withRole('admin')
    .meta({
      openapi: {
        method: 'PATCH',
        path: '/admin/users/{id}/roles',
        tags,
        summary: "Replace a user's roles (never your own; the last active admin stays admin)",
        protect: true,
      },
      errorCodes: ['CONFLICT'],
    })
    .input(ZSetRolesInput)
    .output(ZAdminUserResult)
    .mutation(({ ctx, input }) => ctx.services.users.accounts.setRoles(ctx.actor, input.id, input.roles)),

  deactivate: withRole('admin')
    .meta({
      openapi: {
        method: 'POST',
        path: '/admin/users/{id}/deactivate',
        tags,
        summary: 'Deactivate a user: their sessions end at once and they can no longer log in',
        protect: true,
      },
      errorCodes: ['CONFLICT'],
    })
    .input(ZUserIdInput)
    .output(ZAdminUserResult)
    .mutation(({ ctx, input }) => ctx.services.users.accounts.setActive(ctx.actor, input.id, false)),

  reactivate: withRole('admin')
    .meta({
      openapi: {
        method: 'POST',
        path: '/admin/users/{id}/reactivate',
        tags,
        summary: 'Reactivate a user: they can log in again',
        protect: true,
      },
    })
    .input(ZUserIdInput)
    .output(ZAdminUserResult)
    .mutation(({ ctx, input }) => ctx.services.users.accounts.setActive(ctx.actor, input.id, true)),

  delete: withRole('admin')
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/admin/users/{id}',
        tags,
        summary: 'Delete a user and everything they own, for good (confirmEmail must repeat their email)',
        protect: true,
      },
      errorCodes: ['CONFLICT'],
    })
    .input(ZDeleteUserInput)
    .output(ZDeleteUserResult)
    .mutation(({ ctx, input }) =>
      ctx.services.users.accounts.delete(ctx.actor, input.id, input.confirmEmail),
    ),
});

const auditRouter = router({
  list: withRole('admin')
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/audit',
        tags,
        summary:
          'The audit log, newest first, filtered by action, actor, target and time (admins; append-only)',
        protect: true,
      },
    })
    .input(ZListAuditInput)
    .output(ZAuditList)
    .query(({ ctx, input }) => ctx.services.audit.list(input)),
});

const jobsRouter = router({
  list: withRole('admin', 'moderator')
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/jobs',
        tags,
        summary:
          "Every user's jobs, newest first, by status, user, model server or prompt text (admins and moderators; change them with PATCH /api/jobs/{id})",
        protect: true,
      },
    })
    .input(ZListAdminJobsInput)
    .output(ZAdminJobList)
    .query(({ ctx, input }) => ctx.services.adminOverview.listJobs(input)),
});

export const adminRouter = router({
  keys: adminApiKeysRouter,
  stats: withRole('admin', 'moderator')
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/stats',
        tags,
        summary:
          'Users, jobs by status, the queue (depth, oldest wait, running per instance), assets and bytes, chats, messages; recent users and jobs (admins and moderators)',
        protect: true,
      },
    })
    .input(z.void())
    .output(ZAdminStats)
    .query(({ ctx }) => ctx.services.adminOverview.stats()),
  modelServers: withRole('admin', 'moderator')
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/model-servers',
        tags,
        summary:
          'Checks every configured model server now: up or why not, how fast, and credits left on paid APIs (admins and moderators)',
        protect: true,
      },
    })
    .input(z.void())
    .output(ZModelServerHealthList)
    .query(({ ctx }) => ctx.services.modelServerHealth.checkAll()),
  users: usersRouter,
  jobs: jobsRouter,
  audit: auditRouter,
});
