import { Types } from 'mongoose';
import type { z } from 'zod';

import type { TMessage, ZCreateMessageInput, ZListMessagesInput } from '@gen3d/shared';

import { onPage } from '../../db/paging.js';
import type { AttachmentRecord } from '../assets/attachment-schema.js';
import type { AssetService } from '../assets/service.js';
import type { ChatService } from '../chats/service.js';
import type { StoredObjectCaps } from '../quotas/stored-object-caps.js';
import type { MessageModel, MessageRecord } from './model.js';

type ListInput = z.output<typeof ZListMessagesInput>;
type CreateInput = z.output<typeof ZCreateMessageInput>;

export interface NewMessage {
  chatId: Types.ObjectId;
  ownerId: Types.ObjectId;
  role: 'user' | 'assistant' | 'system';
  type: 'text' | 'image' | 'model';
  content: string;
  attachments: AttachmentRecord[];
  jobId: Types.ObjectId | null;
}

export interface MessageService {
  /** Messages of an owned chat in chronological order, by page or after/before a cursor. */
  list(ownerId: string, input: ListInput): Promise<TMessage[]>;
  /** Appends a message to an owned chat; attachments must be the caller's assets. */
  create(ownerId: string, input: CreateInput): Promise<TMessage>;
  /** Appends a message the server writes (the prompt of a job, a generation's answer). */
  append(message: NewMessage): Promise<MessageRecord>;
  /** Takes back a message the server wrote (its job could not be queued). */
  remove(messageId: Types.ObjectId): Promise<void>;
}

export function createMessageService(
  messages: MessageModel,
  chats: ChatService,
  assets: AssetService,
  caps: StoredObjectCaps,
): MessageService {
  const view = (message: MessageRecord): TMessage => {
    const id = message._id.toHexString();
    return {
      _id: id,
      id,
      chatId: message.chatId.toHexString(),
      role: message.role as TMessage['role'],
      type: message.type as TMessage['type'],
      content: message.content,
      attachments: (message.attachments as AttachmentRecord[]).map(assets.attachmentView),
      jobId: message.jobId?.toHexString() ?? null,
      createdAt: message.createdAt.toISOString(),
    };
  };

  async function append(message: NewMessage): Promise<MessageRecord> {
    const created = (await messages.create(message)).toObject() as MessageRecord;
    await chats.messageAdded(message.chatId, created.createdAt);
    return created;
  }

  return {
    async list(ownerId, { chatId, page, limit, after, before }) {
      const chat = await chats.owned(ownerId, chatId);
      if (before) {
        const newestFirst = await messages
          .find({ chatId: chat._id, _id: { $lt: new Types.ObjectId(before) } })
          .sort({ _id: -1 })
          .limit(limit)
          .lean<MessageRecord[]>();
        return newestFirst.reverse().map(view);
      }
      const filter = after
        ? { chatId: chat._id, _id: { $gt: new Types.ObjectId(after) } }
        : { chatId: chat._id };
      // A cursor (`after`) starts the page itself.
      const found = await onPage(messages.find(filter).sort({ _id: 1 }), {
        page: after ? 1 : page,
        limit,
      }).lean<MessageRecord[]>();
      return found.map(view);
    },

    async create(ownerId, input) {
      const chat = await chats.owned(ownerId, input.chatId);
      const owned = await assets.ownedBy(
        ownerId,
        input.attachments.map((attachment) => attachment.assetId),
      );
      const message = await caps.withRoomForMessages(ownerId, 1, () =>
        append({
          chatId: chat._id,
          ownerId: chat.ownerId,
          role: input.role,
          type: input.type,
          content: input.content,
          attachments: owned.map(assets.attachmentOf),
          jobId: null,
        }),
      );
      return view(message);
    },

    append,

    async remove(messageId) {
      const removed = await messages.findOneAndDelete({ _id: messageId }).lean<MessageRecord>();
      if (removed) await chats.messageRemoved(removed.chatId);
    },
  };
}
