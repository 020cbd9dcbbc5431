import { Types } from 'mongoose';

import type { TChat } from '@gen3d/shared';

import { onPage } from '../../db/paging.js';
import { NotFound } from '../../domain-errors.js';
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
  /** Counts a message added to the chat at `at`: one write, the chat's count and its latest message time. */
  messageAdded(chatId: Types.ObjectId, at: Date): Promise<void>;
  /** Counts a message taken out of the chat; its latest message time goes back to the latest one left. */
  messageRemoved(chatId: Types.ObjectId): Promise<void>;
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
      const deletedAssets = await assets.deleteWhere({ chatId: chat._id });
      return { messages: deletedMessages, assets: deletedAssets, canceledJobs };
    },

    owned,

    async messageAdded(chatId, at) {
      await chats.updateOne({ _id: chatId }, { $inc: { messageCount: 1 }, $max: { lastMessageAt: at } });
    },

    async messageRemoved(chatId) {
      let chat = await chats
        .findOneAndUpdate(
          { _id: chatId },
          { $inc: { messageCount: -1 } },
          { returnDocument: 'after', projection: { lastMessageAt: 1 } },
        )
        .lean<Pick<ChatRecord, 'lastMessageAt'>>();
      while (chat) {
        const [latest] = await messages
          .find({ chatId }, { createdAt: 1 })
          .sort({ createdAt: -1 })
          .limit(1)
          .lean<Array<{ createdAt: Date }>>();
        // Compare-and-set: a message added meanwhile moved the time on, and it is then the latest.
        const set = await chats.updateOne(
          { _id: chatId, lastMessageAt: chat.lastMessageAt },
          { $set: { lastMessageAt: latest?.createdAt ?? null } },
        );
        if (set.matchedCount === 1) return;
        chat = await chats.findById(chatId, { lastMessageAt: 1 }).lean<Pick<ChatRecord, 'lastMessageAt'>>();
      }
    },
  };
}
