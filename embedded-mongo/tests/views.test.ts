import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient, type Db } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';
import { EmbeddedMongoServer } from '../src/index.js';

const suite = useDriverDatabase('views');

/** Test documents with numeric or string `_id`s. */
interface Keyed {
  _id?: number | string;
  [field: string]: unknown;
}

function keyed(db: Db, name: string) {
  return db.collection<Keyed>(name);
}

async function seedOrders(db: Db): Promise<void> {
  await keyed(db, 'orders').insertMany([
    { _id: 1, customer: 'ada', total: 30, status: 'paid', items: ['a', 'b'] },
    { _id: 2, customer: 'bob', total: 5, status: 'open', items: ['c'] },
    { _id: 3, customer: 'ada', total: 12, status: 'paid', items: [] },
    { _id: 4, customer: 'cyd', total: 50, status: 'paid', items: ['a'] },
  ]);
  await db.createCollection('paidOrders', {
    viewOn: 'orders',
    pipeline: [{ $match: { status: 'paid' } }, { $project: { status: 0 } }],
  });
}

describe('views: reading', () => {
  beforeAll(async () => {
    await seedOrders(suite.db);
  });

  it('lists a view with its type, definition and read-only info', async () => {
    const [info] = await suite.db.listCollections({ name: 'paidOrders' }).toArray();
    expect(info).toEqual({
      name: 'paidOrders',
      type: 'view',
      options: {
        viewOn: 'orders',
        pipeline: [{ $match: { status: 'paid' } }, { $project: { status: 0 } }],
      },
      info: { readOnly: true },
    });
    const names = await suite.db.listCollections({}, { nameOnly: true }).toArray();
    expect(names).toContainEqual({ name: 'paidOrders', type: 'view' });
  });

  it('runs find through the view pipeline, then filter, sort, skip, limit and projection', async () => {
    const view = keyed(suite.db, 'paidOrders');
    expect(await view.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, customer: 'ada', total: 30, items: ['a', 'b'] },
      { _id: 3, customer: 'ada', total: 12, items: [] },
      { _id: 4, customer: 'cyd', total: 50, items: ['a'] },
    ]);
    const page = await view
      .find({ total: { $gt: 10 } }, { projection: { _id: 0, total: 1 } })
      .sort({ total: -1 })
      .skip(1)
      .limit(1)
      .toArray();
    expect(page).toEqual([{ total: 30 }]);
    expect(await view.findOne({ _id: 2 })).toBeNull();
  });

  it('answers count, countDocuments and distinct from the view', async () => {
    const view = suite.db.collection('paidOrders');
    expect(await view.countDocuments({ customer: 'ada' })).toBe(2);
    expect(await suite.db.command({ count: 'paidOrders', query: { total: { $lt: 40 } } })).toMatchObject({
      n: 2,
    });
    expect(await view.distinct('customer')).toEqual(['ada', 'cyd']);
    expect(await view.distinct('items', { customer: 'ada' })).toEqual(['a', 'b']);
  });

  it('runs aggregate on a view after its pipeline', async () => {
    const totals = await suite.db
      .collection('paidOrders')
      .aggregate([{ $group: { _id: '$customer', sum: { $sum: '$total' } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(totals).toEqual([
      { _id: 'ada', sum: 42 },
      { _id: 'cyd', sum: 50 },
    ]);
  });

  it('reads views on views, and $lookup reads a view', async () => {
    await suite.db.createCollection('bigPaidOrders', {
      viewOn: 'paidOrders',
      pipeline: [{ $match: { total: { $gte: 30 } } }],
    });
    expect(
      await suite.db
        .collection('bigPaidOrders')
        .find({}, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .toArray(),
    ).toEqual([{ _id: 1 }, { _id: 4 }]);
    await keyed(suite.db, 'customers').insertMany([{ _id: 'ada' }, { _id: 'bob' }]);
    const joined = await suite.db
      .collection('customers')
      .aggregate([
        { $lookup: { from: 'paidOrders', localField: '_id', foreignField: 'customer', as: 'paid' } },
        { $project: { count: { $size: '$paid' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(joined).toEqual([
      { _id: 'ada', count: 2 },
      { _id: 'bob', count: 0 },
    ]);
  });

  it('reflects later writes to the source collection', async () => {
    await keyed(suite.db, 'orders').insertOne({ _id: 5, customer: 'dee', total: 1, status: 'paid' });
    expect(await suite.db.collection('paidOrders').countDocuments()).toBe(4);
    await keyed(suite.db, 'orders').deleteOne({ _id: 5 });
    expect(await suite.db.collection('paidOrders').countDocuments()).toBe(3);
  });
});

describe('views: refused changes', () => {
  beforeAll(async () => {
    await keyed(suite.db, 'source').insertOne({ _id: 1, a: 1 });
    await suite.db.createCollection('readOnly', { viewOn: 'source', pipeline: [] });
  });

  it('refuses inserts, updates, deletes, findAndModify, $out and $merge with CommandNotSupportedOnView (166)', async () => {
    const view = keyed(suite.db, 'readOnly');
    const refusal = {
      code: 166,
      message: `Namespace ${suite.db.databaseName}.readOnly is a view, not a collection`,
    };
    await expect(view.insertOne({ a: 2 })).rejects.toMatchObject(refusal);
    await expect(view.insertMany([{ a: 2 }, { a: 3 }], { ordered: false })).rejects.toMatchObject({
      code: 166,
      writeErrors: [expect.anything(), expect.anything()],
    });
    await expect(view.updateOne({ _id: 1 }, { $set: { a: 2 } })).rejects.toMatchObject(refusal);
    await expect(view.replaceOne({ _id: 1 }, { a: 2 }, { upsert: true })).rejects.toMatchObject(refusal);
    await expect(view.deleteMany({})).rejects.toMatchObject(refusal);
    await expect(view.findOneAndUpdate({ _id: 1 }, { $set: { a: 2 } })).rejects.toMatchObject(refusal);
    await expect(view.findOneAndDelete({ _id: 1 })).rejects.toMatchObject(refusal);
    await expect(
      suite.db
        .collection('source')
        .aggregate([{ $match: {} }, { $out: 'readOnly' }])
        .toArray(),
    ).rejects.toMatchObject(refusal);
    await expect(
      suite.db
        .collection('source')
        .aggregate([{ $merge: { into: 'readOnly' } }])
        .toArray(),
    ).rejects.toMatchObject(refusal);
    expect(await suite.db.listCollections({ name: 'readOnly', type: 'view' }).toArray()).toHaveLength(1);
    expect(await suite.db.collection('source').find().toArray()).toEqual([{ _id: 1, a: 1 }]);
  });

  it('refuses index commands on a view', async () => {
    const view = suite.db.collection('readOnly');
    await expect(view.createIndex({ a: 1 })).rejects.toMatchObject({
      code: 166,
      message: `Cannot create indexes on a view: ${suite.db.databaseName}.readOnly`,
    });
    await expect(view.listIndexes().toArray()).rejects.toMatchObject({ code: 166 });
    await expect(view.dropIndex('a_1')).rejects.toMatchObject({ code: 166 });
  });

  it('refuses collection options on a view and view options on a collection (InvalidOptions)', async () => {
    await expect(
      suite.db.command({ collMod: 'readOnly', validator: { a: { $exists: true } } }),
    ).rejects.toMatchObject({ code: 72, message: 'option not supported on a view: validator' });
    await expect(suite.db.command({ collMod: 'source', viewOn: 'other' })).rejects.toMatchObject({
      code: 72,
      message: 'option only supported on a view: viewOn',
    });
    await expect(
      suite.db.createCollection('badView', { viewOn: 'source', pipeline: [], validator: { a: 1 } }),
    ).rejects.toMatchObject({ code: 72 });
    // Not emulated: refused rather than read with the simple collation.
    await expect(
      suite.db.createCollection('collatedView', {
        viewOn: 'source',
        pipeline: [],
        collation: { locale: 'en', strength: 2 },
      }),
    ).rejects.toMatchObject({ code: 115 });
    await suite.db.createCollection('simpleView', {
      viewOn: 'source',
      pipeline: [],
      collation: { locale: 'simple' },
    });
    expect(await suite.db.listCollections({ name: 'collatedView' }).toArray()).toHaveLength(0);
  });

  it('refuses writing stages, unknown stages and taken names in a view definition', async () => {
    await expect(
      suite.db.createCollection('writes', { viewOn: 'source', pipeline: [{ $out: 'elsewhere' }] }),
    ).rejects.toMatchObject({ code: 167, message: '$out cannot be used in a view definition' });
    await expect(
      suite.db.createCollection('unknown', { viewOn: 'source', pipeline: [{ $teleport: {} }] }),
    ).rejects.toMatchObject({ code: 40324 });
    await expect(
      suite.db.createCollection('source', { viewOn: 'readOnly', pipeline: [] }),
    ).rejects.toMatchObject({
      code: 48,
    });
    await expect(suite.db.createCollection('readOnly')).rejects.toMatchObject({ code: 48 });
    await expect(suite.db.command({ create: 'typed', viewOn: 5, pipeline: [] })).rejects.toMatchObject({
      code: 14,
    });
    expect(
      await suite.db.listCollections({ name: { $in: ['writes', 'unknown', 'typed'] } }).toArray(),
    ).toEqual([]);
  });

  it('refuses view cycles with GraphContainsCycle (140)', async () => {
    await expect(
      suite.db.createCollection('selfish', { viewOn: 'selfish', pipeline: [] }),
    ).rejects.toMatchObject({
      code: 140,
    });
    await suite.db.createCollection('first', { viewOn: 'source', pipeline: [] });
    await suite.db.createCollection('second', { viewOn: 'first', pipeline: [] });
    const db = suite.db.databaseName;
    await expect(suite.db.command({ collMod: 'first', viewOn: 'second' })).rejects.toMatchObject({
      code: 140,
      message: `View cycle detected: ${db}.first => ${db}.first => ${db}.second => ${db}.first`,
    });
    const [first] = await suite.db.listCollections({ name: 'first' }, { nameOnly: false }).toArray();
    expect(first && 'options' in first ? first.options : undefined).toEqual({
      viewOn: 'source',
      pipeline: [],
    });
  });
});

describe('views: collMod and drop', () => {
  it('changes a view pipeline or source with collMod and drops a view', async () => {
    await suite.db.collection('numbers').insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await suite.db.collection('letters').insertMany([{ n: 10 }]);
    await suite.db.createCollection('someNumbers', { viewOn: 'numbers', pipeline: [{ $match: { n: 1 } }] });
    expect(await suite.db.collection('someNumbers').countDocuments()).toBe(1);
    await suite.db.command({ collMod: 'someNumbers', pipeline: [{ $match: { n: { $gte: 2 } } }] });
    expect(await suite.db.collection('someNumbers').countDocuments()).toBe(2);
    await suite.db.command({ collMod: 'someNumbers', viewOn: 'letters' });
    expect(
      await suite.db
        .collection('someNumbers')
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ n: 10 }]);
    expect(await suite.db.collection('someNumbers').drop()).toBe(true);
    expect(await suite.db.listCollections({ name: 'someNumbers' }).toArray()).toEqual([]);
    expect(await suite.db.collection('numbers').countDocuments()).toBe(3);
    // The name is free again, for a collection this time.
    await suite.db.collection('someNumbers').insertOne({ x: 1 });
    expect(await suite.db.collection('someNumbers').countDocuments()).toBe(1);
  });
});

describe('views: durability', () => {
  it('keeps views and their changes across a restart and a compaction', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-views-'));
    const first = await EmbeddedMongoServer.start({ dataDir });
    const firstClient = await MongoClient.connect(`${first.uri}persist`);
    try {
      const db = firstClient.db();
      await db.collection('people').insertMany([
        { name: 'ada', age: 36 },
        { name: 'bob', age: 17 },
      ]);
      await db.createCollection('adults', {
        viewOn: 'people',
        pipeline: [{ $match: { age: { $gte: 18 } } }],
      });
      await db.createCollection('adultNames', {
        viewOn: 'adults',
        pipeline: [{ $project: { _id: 0, name: 1 } }],
      });
      await db.createCollection('gone', { viewOn: 'people', pipeline: [] });
      await db.command({ collMod: 'adults', pipeline: [{ $match: { age: { $gte: 16 } } }] });
      await db.collection('gone').drop();
    } finally {
      await firstClient.close();
      await first.stop();
    }

    // The second start replays the journal; the third reads the snapshot the second one compacted it into.
    for (let start = 0; start < 2; start += 1) {
      const server = await EmbeddedMongoServer.start({ dataDir });
      const client = await MongoClient.connect(`${server.uri}persist`);
      try {
        const db = client.db();
        expect(await db.collection('adultNames').find().sort({ name: 1 }).toArray()).toEqual([
          { name: 'ada' },
          { name: 'bob' },
        ]);
        const views = await db.listCollections({ type: 'view' }, { nameOnly: true }).toArray();
        expect(views.map((view) => view.name).sort()).toEqual(['adultNames', 'adults']);
        await expect(db.collection('adults').insertOne({ name: 'cyd' })).rejects.toMatchObject({ code: 166 });
      } finally {
        await client.close();
        await server.stop();
      }
    }
  });
});
