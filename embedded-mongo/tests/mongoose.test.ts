import mongoose, { Schema } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  databaseUri,
  startTestDatabase,
  uniqueDatabaseName,
  type TestDatabase,
} from '../../tests/support/database.js';

let database: TestDatabase;
let connection: mongoose.Connection;

const UserSchema = new Schema(
  { email: { type: String, required: true, unique: true }, roles: [String] },
  { timestamps: true },
);
const ChatSchema = new Schema(
  { owner: { type: Schema.Types.ObjectId, ref: 'User', required: true }, title: String, messages: Number },
  { timestamps: true },
);

beforeAll(async () => {
  database = await startTestDatabase();
  connection = await mongoose
    .createConnection(databaseUri(database, uniqueDatabaseName('mongoose')))
    .asPromise();
});

afterAll(async () => {
  await connection?.close();
  await database?.stop();
});

describe('mongoose 9 against the database', () => {
  it('creates collections and indexes, enforces unique, populates and updates', async () => {
    const User = connection.model('User', UserSchema);
    const Chat = connection.model('Chat', ChatSchema);
    await User.init();
    await Chat.init();
    const ada = await User.create({ email: 'ada@example.com', roles: ['user'] });
    await expect(User.create({ email: 'ada@example.com' })).rejects.toMatchObject({
      code: 11000,
      keyValue: { email: 'ada@example.com' },
    });
    await Chat.create([
      { owner: ada._id, title: 'fox', messages: 1 },
      { owner: ada._id, title: 'cube', messages: 3 },
    ]);

    const updated = await User.findOneAndUpdate(
      { _id: ada._id },
      { $push: { roles: 'admin' } },
      { returnDocument: 'after' },
    ).lean();
    expect(updated?.roles).toEqual(['user', 'admin']);
    expect(updated?.updatedAt.getTime()).toBeGreaterThanOrEqual(updated?.createdAt.getTime() ?? 0);

    const chats = await Chat.find({ owner: ada._id })
      .sort({ title: 1 })
      .populate<{ owner: { email: string } }>('owner')
      .lean();
    expect(chats.map((chat) => [chat.title, chat.owner.email])).toEqual([
      ['cube', 'ada@example.com'],
      ['fox', 'ada@example.com'],
    ]);
    const totals = await Chat.aggregate<{ _id: null; messages: number }>([
      { $match: { owner: ada._id } },
      { $group: { _id: null, messages: { $sum: '$messages' } } },
    ]);
    expect(totals).toEqual([{ _id: null, messages: 4 }]);
    expect(await Chat.countDocuments({ owner: ada._id })).toBe(2);
    await Chat.deleteMany({ owner: ada._id });
    expect(await Chat.exists({ owner: ada._id })).toBeNull();
    const indexes = await User.listIndexes();
    expect(indexes.map((index) => index.name)).toContain('email_1');
  });
});
