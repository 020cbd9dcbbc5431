import { MongoServerError, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

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
    expect(error.message).toMatch(
      /E11000 duplicate key error collection: \w+\.users index: email_1 dup key: \{ email: "ada@example.com" \}/,
    );
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
    await accounts.insertMany([
      { _id: 'a' as never, handle: 'one' },
      { _id: 'b' as never, handle: 'two' },
    ]);
    const error = await duplicateError(() =>
      accounts.updateOne({ _id: 'b' as never }, { $set: { handle: 'one' } }),
    );
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
    await jobs.createIndex(
      { idempotencyKey: 1 },
      { unique: true, partialFilterExpression: { status: 'active' } },
    );
    await jobs.insertMany([
      { idempotencyKey: 'k', status: 'done' },
      { idempotencyKey: 'k', status: 'done' },
      { idempotencyKey: 'k', status: 'active' },
    ]);
    await expect(jobs.insertOne({ idempotencyKey: 'k', status: 'active' })).rejects.toMatchObject({
      code: 11000,
    });
  });

  it('refuses to build a unique index over existing duplicates', async () => {
    const tags = suite.db.collection('tags');
    await tags.insertMany([{ label: 'red' }, { label: 'red' }]);
    await expect(tags.createIndex({ label: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
    expect((await tags.listIndexes().toArray()).map((index) => index.name)).toEqual(['_id_']);
  });

  it("changes a TTL index's expireAfterSeconds with collMod, as mongod does", async () => {
    const events = suite.db.collection('ttl_events');
    await events.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
    await events.createIndex({ kind: 1 });
    const answer = await suite.db.command({
      collMod: 'ttl_events',
      index: { keyPattern: { at: 1 }, expireAfterSeconds: 60 },
    });
    expect(answer).toMatchObject({ expireAfterSeconds_old: 3600, expireAfterSeconds_new: 60, ok: 1 });
    const ttl = (await events.listIndexes().toArray()).find((index) => index.name === 'at_1');
    expect(ttl?.expireAfterSeconds).toBe(60);
    // Re-creating it with the new lifetime is then a no-op; with the old one, a conflict.
    await events.createIndex({ at: 1 }, { expireAfterSeconds: 60 });
    await expect(events.createIndex({ at: 1 }, { expireAfterSeconds: 3600 })).rejects.toMatchObject({
      code: 85,
    });
    await expect(
      suite.db.command({ collMod: 'ttl_events', index: { name: 'kind_1', expireAfterSeconds: 5 } }),
    ).rejects.toMatchObject({ code: 72 });
    await expect(
      suite.db.command({ collMod: 'ttl_events', index: { name: 'missing_1', expireAfterSeconds: 5 } }),
    ).rejects.toMatchObject({ code: 27 });
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
    await posts.insertMany([
      { n: 1, tags: ['fox', 'red'] },
      { n: 2, tags: ['cube'] },
      { n: 3, tags: 'fox' },
    ]);
    const found = await posts.find({ tags: 'fox' }).sort({ n: 1 }).toArray();
    expect(found.map((post) => post.n)).toEqual([1, 3]);
    expect(await posts.countDocuments({ tags: { $in: ['cube', 'red'] } })).toBe(2);
  });

  it('answers range, equality and prefix filters through indexes exactly as a full scan does', async () => {
    const indexed = suite.db.collection('ranged');
    const plain = suite.db.collection('unindexed');
    await indexed.createIndex({ n: 1 });
    await indexed.createIndex({ at: 1 });
    await indexed.createIndex({ owner: 1, kind: 1 });
    const base = new Date('2026-01-01T00:00:00Z').getTime();
    const docs: Document[] = Array.from({ length: 300 }, (_, index) => ({
      _id: index,
      n:
        index % 7 === 0
          ? [index, index + 1000]
          : index % 11 === 0
            ? `text ${index}`
            : index % 13 === 0
              ? null
              : index,
      ...(index % 17 === 0 ? {} : { at: new Date(base + index * 60_000) }),
      owner: `o${index % 5}`,
      kind: index % 2 === 0 ? 'even' : 'odd',
    }));
    await indexed.insertMany(docs);
    await plain.insertMany(docs);
    // Updates move entries in the ordered index (arrays left out: mongod refuses $inc on an array).
    const moved = { n: { $gte: 250, $lt: 260, $not: { $type: 'array' } } };
    await indexed.updateMany(moved, { $inc: { n: 10_000 } });
    await plain.updateMany(moved, { $inc: { n: 10_000 } });
    await indexed.deleteMany({ at: { $lt: new Date(base + 20 * 60_000) } });
    await plain.deleteMany({ at: { $lt: new Date(base + 20 * 60_000) } });
    const filters = [
      { n: { $gt: 100, $lte: 200 } },
      { n: { $gte: 1000 } },
      { n: { $lt: 50 } },
      { n: { $gte: 'text' } },
      { at: { $gte: new Date(base + 150 * 60_000) } },
      { at: { $gt: new Date(base + 10 * 60_000), $lt: new Date(base + 40 * 60_000) }, owner: 'o1' },
      { owner: 'o2', kind: 'even' },
      { owner: { $in: ['o3', 'o4'] }, at: { $gte: new Date(base + 280 * 60_000) } },
      { owner: 'o1', n: { $gt: 10 } },
    ];
    for (const filter of filters) {
      const expected = (await plain.find(filter).sort({ _id: 1 }).toArray()).map((doc) => doc._id);
      const actual = (await indexed.find(filter).sort({ _id: 1 }).toArray()).map((doc) => doc._id);
      expect(actual, JSON.stringify(filter)).toEqual(expected);
      expect(await indexed.countDocuments(filter)).toBe(expected.length);
    }
    const grouped = await indexed
      .aggregate([
        { $match: { owner: 'o3', kind: 'odd' } },
        { $group: { _id: '$owner', count: { $sum: 1 } } },
      ])
      .toArray();
    expect(grouped).toEqual([{ _id: 'o3', count: await plain.countDocuments({ owner: 'o3', kind: 'odd' }) }]);
  });

  it('leaves stored documents untouched by read-only pipelines that run on them directly', async () => {
    const items = suite.db.collection<{ _id: number; tag: string; nested: { v: number } }>('pipeline_items');
    await items.insertMany([
      { _id: 1, tag: 'a', nested: { v: 2 } },
      { _id: 2, tag: 'a', nested: { v: 1 } },
      { _id: 3, tag: 'b', nested: { v: 3 } },
    ]);
    const grouped = await items
      .aggregate([
        { $match: { tag: 'a' } },
        { $sort: { 'nested.v': 1 } },
        { $group: { _id: '$tag', all: { $push: '$$ROOT' }, n: { $sum: 1 } } },
      ])
      .toArray();
    expect(grouped).toEqual([
      {
        _id: 'a',
        all: [
          { _id: 2, tag: 'a', nested: { v: 1 } },
          { _id: 1, tag: 'a', nested: { v: 2 } },
        ],
        n: 2,
      },
    ]);
    await items.aggregate([{ $match: { tag: 'a' } }, { $set: { 'nested.v': 99 } }]).toArray();
    expect(await items.countDocuments({ tag: 'a' })).toBe(2);
    expect(await items.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
      { _id: 1, tag: 'a', nested: { v: 2 } },
      { _id: 2, tag: 'a', nested: { v: 1 } },
      { _id: 3, tag: 'b', nested: { v: 3 } },
    ]);
  });
});
