import { z } from 'zod';

import { ZObjectId } from './auth.js';
import { queryInteger, ZPage } from './query-params.js';

export const ZChatTitle = z.string().trim().min(1, 'must not be empty').max(200);

export const ZChat = z.object({
  _id: z.string(),
  id: z.string(),
  title: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastMessageAt: z.string().nullable(),
});
export type TChat = z.infer<typeof ZChat>;

export const ZListChatsInput = z.strictObject({
  page: ZPage,
  limit: queryInteger(1, 100).default(50),
});

export const ZCreateChatInput = z.strictObject({ title: ZChatTitle.default('New chat') });
export const ZRenameChatInput = z.strictObject({ id: ZObjectId, title: ZChatTitle });
export const ZChatIdInput = z.strictObject({ id: ZObjectId });

/** What a deletion answers: counts of what went with the chat. */
export const ZDeleteChatResult = z.object({
  ok: z.literal(true),
  deleted: z.object({ messages: z.number().int(), assets: z.number().int(), canceledJobs: z.number().int() }),
});
