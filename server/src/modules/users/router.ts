import {
  ZCreateUserInput,
  ZListUsersInput,
  ZUpdateUserInput,
  ZUserIdInput,
  ZUserList,
  ZUserLookup,
  ZUserView,
} from '@gen3d/shared';

import { authedProcedure, router, withRole } from '../../trpc/trpc.js';

const tags = ['users'];

export const usersRouter = router({
  list: withRole('admin', 'moderator')
    .meta({
      openapi: {
        method: 'GET',
        path: '/users',
        tags,
        summary: 'Users, newest first (admins and moderators)',
        protect: true,
      },
    })
    .input(ZListUsersInput)
    .output(ZUserList)
    .query(({ ctx, input }) => ctx.services.users.directory.list(input)),

  get: authedProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/users/{id}',
        tags,
        summary:
          'A user: the whole account for its owner, moderators and admins (settings for the owner and admins); the public profile (id, userName, profile, createdAt) for anyone else',
        protect: true,
      },
    })
    .input(ZUserIdInput)
    .output(ZUserLookup)
    .query(({ ctx, input }) => ctx.services.users.directory.view(ctx.user, input.id)),

  create: withRole('admin')
    .meta({
      openapi: {
        method: 'POST',
        path: '/users',
        tags,
        summary: 'Create a verified account (admins)',
        protect: true,
        successDescription: 'The new user',
      },
      errorCodes: ['CONFLICT'],
      successStatus: 201,
    })
    .input(ZCreateUserInput)
    .output(ZUserView)
    .mutation(({ ctx, input }) => ctx.services.users.accounts.create(ctx.actor, input)),

  update: authedProcedure
    .meta({
      openapi: {
        method: 'PATCH',
        path: '/users/{id}',
        tags,
        summary:
          'Change a user: owners their name, profile and settings; admins anything but their own roles',
        protect: true,
      },
      errorCodes: ['CONFLICT'],
    })
    .input(ZUpdateUserInput)
    .output(ZUserView)
    .mutation(({ ctx, input }) => ctx.services.users.profiles.updateUser(ctx, input)),
});
