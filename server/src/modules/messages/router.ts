import { z } from 'zod';

import { ZCreateMessageInput, ZListMessagesInput, ZMessage } from '@gen3d/shared';

import { authedProcedure, router } from '../../trpc/trpc.js';

const tags = ['messages'];

export const messagesRouter = router({
  list: authedProcedure
    .meta({
      apiKeyScope: 'chats:read',
      openapi: {
        method: 'GET',
        path: '/messages',
        tags,
        summary: "A chat's messages in chronological order (page/limit, or after/before a message id)",
        protect: true,
      },
    })
    .input(ZListMessagesInput)
    .output(z.array(ZMessage))
    .query(({ ctx, input }) => ctx.services.messages.list(ctx.user.id, input)),

  create: authedProcedure
    .meta({
      apiKeyScope: 'chats:write',
      openapi: {
        method: 'POST',
        path: '/messages',
        tags,
        summary: 'Add a message to your chat (attachments must be your assets)',
        protect: true,
      },
      successStatus: 201,
    })
    .input(ZCreateMessageInput)
    .output(ZMessage)
    .mutation(({ ctx, input }) => ctx.services.messages.create(ctx.user.id, input)),
});
