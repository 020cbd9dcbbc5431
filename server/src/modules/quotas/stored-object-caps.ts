import { Types } from 'mongoose';

import { DomainError } from '../../domain-errors.js';
import { KeyedSerializer } from '../../infra/keyed-serializer.js';
import type { ChatModel } from '../chats/model.js';
import type { MessageModel } from '../messages/model.js';

export interface StoredObjectLimits {
  maxChats: number;
  maxMessages: number;
  maxAssetBytes: number;
}

/**
 * What one account may keep: chats, messages and bytes of assets. `create` runs only when the new objects
 * fit, else QUOTA_EXCEEDED (429); deleting chats makes room. Chats and messages of one account are checked
 * and created in turns in this process, so the calls of a batch cannot all pass one count; instances sharing
 * a database count independently, so they can pass a cap by the few created at the same moment.
 */
export interface StoredObjectCaps {
  withRoomForChat<T>(ownerId: string, create: () => Promise<T>): Promise<T>;
  withRoomForMessages<T>(ownerId: string, count: number, create: () => Promise<T>): Promise<T>;
  withRoomForAssetBytes<T>(ownerId: string, bytes: number, create: () => Promise<T>): Promise<T>;
}

const full = (message: string): DomainError => new DomainError('QUOTA_EXCEEDED', message);
const mib = (value: number): string => `${Math.ceil(value / 2 ** 20)} MiB`;

export function createStoredObjectCaps(
  models: { chats: ChatModel; messages: MessageModel; usedAssetBytes: (ownerId: string) => Promise<number> },
  limits: StoredObjectLimits,
): StoredObjectCaps {
  const turns = new KeyedSerializer();
  return {
    withRoomForChat(ownerId, create) {
      return turns.run(`chats:${ownerId}`, async () => {
        const held = await models.chats.countDocuments({ ownerId: new Types.ObjectId(ownerId) });
        if (held >= limits.maxChats)
          throw full(
            `You have ${held} chats, the most an account may keep (${limits.maxChats}); delete some to start new ones`,
          );
        return create();
      });
    },

    withRoomForMessages(ownerId, count, create) {
      return turns.run(`messages:${ownerId}`, async () => {
        const held = await models.messages.countDocuments({ ownerId: new Types.ObjectId(ownerId) });
        if (held + count > limits.maxMessages)
          throw full(
            `You have ${held} messages, the most an account may keep is ${limits.maxMessages}; delete chats to make room`,
          );
        return create();
      });
    },

    // Not taken in turns: files are registered by admins, and a job only asks whether any room is left,
    // so nothing a user sends in parallel gets past this check; storing files in turns would cap registration.
    async withRoomForAssetBytes(ownerId, bytes, create) {
      const held = await models.usedAssetBytes(ownerId);
      if (held + bytes > limits.maxAssetBytes)
        throw full(
          `Your files take ${mib(held)} of the ${mib(limits.maxAssetBytes)} an account may keep; delete chats or assets to make room`,
        );
      return create();
    },
  };
}
