import { z } from 'zod';

import { ZAttachment } from './assets.js';
import { ZObjectId } from './auth.js';
import { queryInteger, ZPage } from './query-params.js';

export const MessageRoles = ['user', 'assistant', 'system'] as const;
export const MessageTypes = ['text', 'image', 'model'] as const;

export const ZMessage = z.object({
  _id: z.string(),
  id: z.string(),
  chatId: z.string(),
  role: z.enum(MessageRoles),
  type: z.enum(MessageTypes),
  content: z.string(),
  attachments: z.array(ZAttachment),
  jobId: z.string().nullable(),
  createdAt: z.string(),
});
export type TMessage = z.infer<typeof ZMessage>;

/**
 * Messages of a chat in chronological order. Page through with `page`/`limit`, or for long chats with
 * the cursors `after`/`before` (a message id): the next `limit` messages after or before it.
 */
export const ZListMessagesInput = z
  .strictObject({
    chatId: ZObjectId,
    page: ZPage,
    limit: queryInteger(1, 200).default(50),
    after: ZObjectId.optional().describe('Cursor: messages after this message id'),
    before: ZObjectId.optional().describe('Cursor: messages before this message id'),
  })
  .refine((input) => !(input.after && input.before), {
    message: 'give either after or before, not both',
    path: ['before'],
  });

/** What a caller may post: `user` messages only; `assistant` and `system` messages are the server's. */
export const ZCreateMessageInput = z.strictObject({
  chatId: ZObjectId,
  role: z
    .literal('user', { error: 'must be "user": assistant and system messages are written by the server' })
    .default('user')
    .describe('Always "user": assistant and system messages are written by the server'),
  content: z.string().max(20_000).default(''),
  type: z.enum(MessageTypes).default('text'),
  attachments: z
    .array(
      z.strictObject({
        assetId: ZObjectId,
        kind: z.string().max(40).optional(),
        url: z.string().max(2000).optional(),
      }),
    )
    .max(20)
    .default([])
    .describe('Assets of the caller; kind and url are recomputed from the asset'),
});
