import { MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useDriverDatabase } from '../support/database.js';

const suite = useDriverDatabase('indexes');

async function duplicateError(run: () => Promise<unknown>): Promise<MongoServerError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof MongoServerError) return error;
    throw error;
  }
  throw new Error('expected a duplicate key error');
}

describe('indexes', () => {
  it('enforces a unique index with E11000, the key pattern and the key value', async () => {
    const users = suite.db.collection('users');
    await users.createIndex({ email: 1 }, { unique: true });
    await users.insertOne({ email: 'ada@example.com' });
    const error = await duplicateError(() => users.insertOne({ email: 'ada@example.com' }));
    expect(error.code).toBe(11000);
    expect(error.message).toMatch(/E11000 duplicate key error collection: \w+\.users index: email_1 dup key: \{ email: "ada@example.com" \}/);
    expect(error.keyPattern).toEqual({ email: 1 });
    expect(error.keyValue).toEqual({ email: 'ada@example.com' });
    expect(await users.countDocuments({ email: 'ada@example.com' })).toBe(1);
  });

  it('enforces compound unique indexes on the combination only', async () => {
    const members = suite.db.collection('members');
    await members.createIndex({ chatId: 1, userId: 1 }, { unique: true });
    await members.insertMany([
      { chatId: 1, userId: 1 },
      { chatId: 1, userId: 2 },
      { chatId: 2, userId: 1 },
    ]);
    const error = await duplicateError(() => members.insertOne({ chatId: 1, userId: 2 }));
    expect(error.keyPattern).toEqual({ chatId: 1, userId: 1 });
    expect(error.keyValue).toEqual({ chatId: 1, userId: 2 });
  });

  it('refuses an update that would create a duplicate and leaves the document unchanged', async () => {
    const accounts = suite.db.collection('accounts');
    await accounts.createIndex({ handle: 1 }, { unique: true });
    await accounts.insertMany([{ _id: 'a' as never, handle: 'one' }, { _id: 'b' as never, handle: 'two' }]);
    const error = await duplicateError(() => accounts.updateOne({ _id: 'b' as never }, { $set: { handle: 'one' } }));
    expect(error.code).toBe(11000);
    expect(await accounts.findOne({ _id: 'b' as never })).toMatchObject({ handle: 'two' });
  });

  it('leaves documents without the field out of a sparse unique index', async () => {
    const profiles = suite.db.collection('profiles');
    await profiles.createIndex({ nickname: 1 }, { unique: true, sparse: true });
    await profiles.insertMany([{ name: 'a' }, { name: 'b' }, { nickname: 'x' }]);
    await expect(profiles.insertOne({ nickname: 'x' })).rejects.toMatchObject({ code: 11000 });
  });

  it('applies a partial unique index only to documents matching its filter', async () => {
    const jobs = suite.db.collection('jobs');
    await jobs.createIndex({ idempotencyKey: 1 }, { unique: true, partialFilterExpression: { status: 'active' } });
    await jobs.insertMany([
      { idempotencyKey: 'k', status: 'done' },
      { idempotencyKey: 'k', status: 'done' },
      { idempotencyKey: 'k', status: 'active' },
    ]);
    await expect(jobs.insertOne({ idempotencyKey: 'k', status: 'active' })).rejects.toMatchObject({ code: 11000 });
  });

  it('refuses to build a unique index over existing duplicates', async () => {
    const tags = suite.db.collection('tags');
    await tags.insertMany([{ label: 'red' }, { label: 'red' }]);
    await expect(tags.createIndex({ label: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
    expect((await tags.listIndexes().toArray()).map((index) => index.name)).toEqual(['_id_']);
  });

  it('lists and drops indexes', async () => {
    const things = suite.db.collection('things');
    await things.createIndex({ a: 1 });
    await things.createIndex({ b: -1, c: 1 }, { name: 'b_c' });
    expect((await things.listIndexes().toArray()).map((index) => index.name)).toEqual(['_id_', 'a_1', 'b_c']);
    await things.dropIndex('a_1');
    expect((await things.listIndexes().toArray()).map((index) => index.name)).toEqual(['_id_', 'b_c']);
    await expect(things.dropIndex('nope')).rejects.toMatchObject({ code: 27 });
  });

  it('answers equality lookups on indexed fields correctly, including array members', async () => {
    const posts = suite.db.collection('posts');
    await posts.createIndex({ tags: 1 });
    await posts.insertMany([{ n: 1, tags: ['fox', 'red'] }, { n: 2, tags: ['cube'] }, { n: 3, tags: 'fox' }]);
    const found = await posts.find({ tags: 'fox' }).sort({ n: 1 }).toArray();
    expect(found.map((post) => post.n)).toEqual([1, 3]);
    expect(await posts.countDocuments({ tags: { $in: ['cube', 'red'] } })).toBe(2);
  });
});
