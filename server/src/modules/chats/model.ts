import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';

const ChatSchema = new Schema(
  {
    ownerId: { type: Schema.Types.ObjectId, required: true },
    title: { type: String, required: true },
    lastMessageAt: { type: Date, default: null },
    /** Messages in the chat, counted as they are added and removed (an analytics rebuild recounts them). */
    messageCount: { type: Number, default: 0 },
  },
  { timestamps: true, strict: 'throw' },
);
ChatSchema.index({ ownerId: 1, updatedAt: -1, _id: -1 });
// The most active chats of an owner, and of everyone, read in index order.
ChatSchema.index({ ownerId: 1, messageCount: -1, lastMessageAt: -1 });
ChatSchema.index({ messageCount: -1, lastMessageAt: -1 });

export type ChatRecord = InferSchemaType<typeof ChatSchema> & { _id: Types.ObjectId };
export type ChatModel = Model<InferSchemaType<typeof ChatSchema>>;

export function chatModel(connection: Connection): ChatModel {
  return connection.model('Chat', ChatSchema);
}
