import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';

import { MessageRoles, MessageTypes } from '@gen3d/shared';

import { AttachmentSchema } from '../assets/attachment-schema.js';

const MessageSchema = new Schema(
  {
    chatId: { type: Schema.Types.ObjectId, required: true },
    ownerId: { type: Schema.Types.ObjectId, required: true },
    role: { type: String, enum: MessageRoles, required: true },
    type: { type: String, enum: MessageTypes, required: true },
    content: { type: String, default: '' },
    attachments: { type: [AttachmentSchema], default: [] },
    jobId: { type: Schema.Types.ObjectId, default: null },
  },
  { timestamps: { createdAt: true, updatedAt: false }, strict: 'throw' },
);
// Chronological order within a chat is the _id order (ObjectIds grow with insertion time).
MessageSchema.index({ chatId: 1, _id: 1 });
MessageSchema.index({ ownerId: 1, createdAt: -1 });

export type MessageRecord = InferSchemaType<typeof MessageSchema> & { _id: Types.ObjectId };
export type MessageModel = Model<InferSchemaType<typeof MessageSchema>>;

export function messageModel(connection: Connection): MessageModel {
  return connection.model('Message', MessageSchema);
}
