import { Types } from 'mongoose';

import type { TChat } from '@gen3d/shared';

import { onPage } from '../../db/paging.js';
import { NotFound } from '../../domain-errors.js';
import type { AnalyticsRollups } from '../analytics/rollups.js';
import type { AssetService } from '../assets/service.js';
import type { MessageModel } from '../messages/model.js';
import type { StoredObjectCaps } from '../quotas/stored-object-caps.js';
import type { ChatModel, ChatRecord } from './model.js';

export interface ChatDeps {
  chats: ChatModel;
  messages: MessageModel;
  assets: AssetService;
  /** Cancels the chat's queued and running jobs; answers how many. */
  cancelJobsOfChat(chatId: Types.ObjectId): Promise<number>;
  caps: StoredObjectCaps;
  /** The analytics rollups, told of a chat deleted with its messages. */
  messageCounts: Pick<AnalyticsRollups, 'chatDeleted'>;
}

export interface ChatService {
  /** The owner's chats, most recently active first. */
  list(ownerId: string, page: { page: number; limit: number }): Promise<TChat[]>;
  create(ownerId: string, title: string): Promise<TChat>;
  rename(ownerId: string, chatId: string, title: string): Promise<TChat>;
  /** Cancels the chat's unfinished jobs, then deletes it with its messages and its assets' files. */
  delete(
    ownerId: string,
    chatId: string,
  ): Promise<{ messages: number; assets: number; canceledJobs: number }>;
  /** The chat when `ownerId` owns it; NOT_FOUND otherwise (another's chat is not told apart from none). */
  owned(ownerId: string, chatId: string): Promise<ChatRecord>;
  /** Records that a message arrived now. */
  touch(chatId: Types.ObjectId, at: Date): Promise<void>;
}

export function chatView(chat: ChatRecord): TChat {
  const id = chat._id.toHexString();
  return {
    _id: id,
    id,
    title: chat.title,
    createdAt: chat.createdAt.toISOString(),
    updatedAt: chat.updatedAt.toISOString(),
    lastMessageAt: chat.lastMessageAt?.toISOString() ?? null,
  };
}

export function createChatService({
  chats,
  messages,
  assets,
  cancelJobsOfChat,
  messageCounts,
  caps,
}: ChatDeps): ChatService {
  async function owned(ownerId: string, chatId: string): Promise<ChatRecord> {
    const chat = await chats
      .findOne({ _id: new Types.ObjectId(chatId), ownerId: new Types.ObjectId(ownerId) })
      .lean<ChatRecord>();
    if (!chat) throw new NotFound('Chat not found');
    return chat;
  }

  return {
    async list(ownerId, { page, limit }) {
      const found = await onPage(
        chats.find({ ownerId: new Types.ObjectId(ownerId) }).sort({ updatedAt: -1, _id: -1 }),
        { page, limit },
      ).lean<ChatRecord[]>();
      return found.map(chatView);
    },

    create(ownerId, title) {
      return caps.withRoomForChat(ownerId, async () => {
        const chat = await chats.create({ ownerId: new Types.ObjectId(ownerId), title });
        return chatView(chat.toObject() as ChatRecord);
      });
    },

    async rename(ownerId, chatId, title) {
      const chat = await chats
        .findOneAndUpdate(
          { _id: new Types.ObjectId(chatId), ownerId: new Types.ObjectId(ownerId) },
          { $set: { title } },
          { returnDocument: 'after' },
        )
        .lean<ChatRecord>();
      if (!chat) throw new NotFound('Chat not found');
      return chatView(chat);
    },

    async delete(ownerId, chatId) {
      const chat = await owned(ownerId, chatId);
      // Jobs stop first so no worker adds a message or an asset to a chat being deleted.
      const canceledJobs = await cancelJobsOfChat(chat._id);
      await chats.deleteOne({ _id: chat._id });
      const { deletedCount: deletedMessages } = await messages.deleteMany({ chatId: chat._id });
      await messageCounts.chatDeleted(chat._id);
      const deletedAssets = await assets.deleteWhere({ chatId: chat._id });
      return { messages: deletedMessages, assets: deletedAssets, canceledJobs };
    },

    owned,

    async touch(chatId, at) {
      await chats.updateOne({ _id: chatId }, { $set: { lastMessageAt: at } });
    },
  };
}
