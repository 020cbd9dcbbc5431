import { z } from 'zod';

import {
  ZChat,
  ZChatIdInput,
  ZCreateChatInput,
  ZDeleteChatResult,
  ZListChatsInput,
  ZRenameChatInput,
} from '@gen3d/shared';

import { authedProcedure, router } from '../../trpc/trpc.js';

const tags = ['chats'];

export const chatsRouter = router({
  list: authedProcedure
    .meta({
      apiKeyScope: 'chats:read',
      openapi: {
        method: 'GET',
        path: '/chats',
        tags,
        summary: 'Your chats, most recently active first',
        protect: true,
      },
    })
    .input(ZListChatsInput)
    .output(z.array(ZChat))
    .query(({ ctx, input }) => ctx.services.chats.list(ctx.user.id, input)),

  create: authedProcedure
    .meta({
      apiKeyScope: 'chats:write',
      openapi: { method: 'POST', path: '/chats', tags, summary: 'Start a chat', protect: true },
      successStatus: 201,
    })
    .input(ZCreateChatInput)
    .output(ZChat)
    .mutation(({ ctx, input }) => ctx.services.chats.create(ctx.user.id, input.title)),

  rename: authedProcedure
    .meta({
      apiKeyScope: 'chats:write',
      openapi: { method: 'PATCH', path: '/chats/{id}', tags, summary: 'Rename a chat', protect: true },
    })
    .input(ZRenameChatInput)
    .output(ZChat)
    .mutation(({ ctx, input }) => ctx.services.chats.rename(ctx.user.id, input.id, input.title)),

  delete: authedProcedure
    .meta({
      apiKeyScope: 'chats:write',
      openapi: {
        method: 'DELETE',
        path: '/chats/{id}',
        tags,
        summary: 'Delete a chat with its messages, unfinished jobs and assets',
        protect: true,
      },
    })
    .input(ZChatIdInput)
    .output(ZDeleteChatResult)
    .mutation(async ({ ctx, input }) => ({
      ok: true as const,
      deleted: await ctx.services.chats.delete(ctx.user.id, input.id),
    })),
});
