import { Types } from 'mongoose';
import { DomainError } from '../../domain-errors.js';
import type { AssetModel } from '../assets/model.js';
import type { ChatModel } from '../chats/model.js';
import type { MessageModel } from '../messages/model.js';

export interface StoredObjectLimits {
  maxChats: number;
  maxMessages: number;
  maxAssetBytes: number;
}

/**
 * What one account may keep: chats, messages and bytes of assets. A new object beyond a cap is refused
 * with QUOTA_EXCEEDED (429); deleting chats makes room. Counts are read at creation, so requests racing
 * each other can pass a cap by the few that were in flight together.
 */
export interface StoredObjectCaps {
  ensureRoomForChat(ownerId: string): Promise<void>;
  ensureRoomForMessages(ownerId: string, count: number): Promise<void>;
  ensureRoomForAssetBytes(ownerId: string, bytes: number): Promise<void>;
}

const full = (message: string): DomainError => new DomainError('QUOTA_EXCEEDED', message);

export function createStoredObjectCaps(models: { chats: ChatModel; messages: MessageModel; assets: AssetModel }, limits: StoredObjectLimits): StoredObjectCaps {
  return {
    async ensureRoomForChat(ownerId) {
      const held = await models.chats.countDocuments({ ownerId: new Types.ObjectId(ownerId) });
      if (held >= limits.maxChats) throw full(`You have ${held} chats, the most an account may keep (${limits.maxChats}); delete some to start new ones`);
    },

    async ensureRoomForMessages(ownerId, count) {
      const held = await models.messages.countDocuments({ ownerId: new Types.ObjectId(ownerId) });
      if (held + count > limits.maxMessages) throw full(`You have ${held} messages, the most an account may keep is ${limits.maxMessages}; delete chats to make room`);
    },

    async ensureRoomForAssetBytes(ownerId, bytes) {
      const [used] = await models.assets.aggregate<{ bytes: number }>([{ $match: { ownerId: new Types.ObjectId(ownerId) } }, { $group: { _id: null, bytes: { $sum: '$bytes' } } }]);
      const held = used?.bytes ?? 0;
      if (held + bytes > limits.maxAssetBytes) {
        const mib = (value: number): string => `${Math.ceil(value / 2 ** 20)} MiB`;
        throw full(`Your files take ${mib(held)} of the ${mib(limits.maxAssetBytes)} an account may keep; delete chats or assets to make room`);
      }
    },
  };
}
