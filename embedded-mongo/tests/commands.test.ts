import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { uniqueDatabaseName, useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('commands');

describe('standalone behaviour', () => {
  it('refuses transactions as a standalone mongod does', async () => {
    const session = suite.client.startSession();
    try {
      await expect(
        session.withTransaction(async () => {
          await suite.db.collection('txn').insertOne({ a: 1 }, { session });
        }),
      ).rejects.toThrow(/retryable writes|Transaction numbers are only allowed/);
    } finally {
      await session.endSession();
    }
    expect(await suite.db.collection('txn').countDocuments()).toBe(0);
  });

  it('refuses change streams with code 40573', async () => {
    const stream = suite.db.collection('events').watch();
    await expect(stream.tryNext()).rejects.toMatchObject({ code: 40573 });
    await stream.close();
  });

  it('refuses unknown commands with CommandNotFound', async () => {
    await expect(suite.db.command({ frobnicate: 1 })).rejects.toMatchObject({
      code: 59,
      codeName: 'CommandNotFound',
    });
  });

  it('refuses unknown query operators, pipeline stages and update modifiers', async () => {
    const items = suite.db.collection('items');
    await items.insertOne({ a: 1 });
    await expect(items.find({ a: { $nearly: 1 } }).toArray()).rejects.toMatchObject({ code: 2 });
    await expect(items.aggregate([{ $teleport: {} }]).toArray()).rejects.toMatchObject({ code: 40324 });
    await expect(
      items.aggregate([{ $project: { x: { $frobnicate: '$a' } } }]).toArray(),
    ).rejects.toMatchObject({ code: 168 });
    await expect(
      suite.db.command({ update: 'items', updates: [{ q: {}, u: { $shove: { a: 2 } } }] }),
    ).resolves.toMatchObject({
      writeErrors: [{ code: 9 }],
    });
    expect(await items.findOne({}, { projection: { _id: 0 } })).toEqual({ a: 1 });
  });

  it('refuses to change _id with ImmutableField', async () => {
    const items = suite.db.collection('immutable');
    const { insertedId } = await items.insertOne({ a: 1 });
    await expect(
      items.updateOne({ _id: insertedId }, { $set: { _id: new ObjectId() } }),
    ).rejects.toMatchObject({ code: 66 });
  });
});

describe('documents', () => {
  it('stores _id first and applies $push, $inc, $addToSet, $pull and $setOnInsert', async () => {
    const chats = suite.db.collection<{
      title: string;
      tags?: string[];
      count?: number;
      set?: string[];
      seen?: boolean;
      createdBy?: string;
    }>('chats');
    const { insertedId } = await chats.insertOne({ title: 'fox', tags: ['a'], count: 0 });
    await chats.updateOne(
      { _id: insertedId },
      { $push: { tags: 'b' }, $inc: { count: 2 }, $addToSet: { set: 'x' } },
    );
    await chats.updateOne({ _id: insertedId }, { $addToSet: { set: 'x' }, $pull: { tags: 'a' } });
    const stored = await chats.findOne({ _id: insertedId });
    expect(Object.keys(stored ?? {})[0]).toBe('_id');
    expect(stored).toMatchObject({ tags: ['b'], count: 2, set: ['x'] });
    await chats.updateOne(
      { title: 'new' },
      { $setOnInsert: { createdBy: 'upsert' }, $set: { seen: true } },
      { upsert: true },
    );
    await chats.updateOne(
      { title: 'new' },
      { $setOnInsert: { createdBy: 'again' }, $set: { seen: false } },
      { upsert: true },
    );
    expect(await chats.findOne({ title: 'new' }, { projection: { _id: 0 } })).toEqual({
      title: 'new',
      createdBy: 'upsert',
      seen: false,
    });
  });

  it('applies pipeline updates and arrayFilters', async () => {
    const jobs = suite.db.collection('pipeline_updates');
    await jobs.insertOne({
      _id: 1 as never,
      attempts: 2,
      outputs: [
        { format: 'glb', ok: false },
        { format: 'ply', ok: false },
      ],
    });
    await jobs.updateOne({ _id: 1 as never }, [
      { $set: { attempts: { $add: ['$attempts', 1] }, status: 'queued' } },
    ]);
    await jobs.updateOne(
      { _id: 1 as never },
      { $set: { 'outputs.$[o].ok': true } },
      { arrayFilters: [{ 'o.format': 'ply' }] },
    );
    expect(await jobs.findOne({ _id: 1 as never })).toMatchObject({
      attempts: 3,
      status: 'queued',
      outputs: [
        { format: 'glb', ok: false },
        { format: 'ply', ok: true },
      ],
    });
  });

  it('claims atomically with findOneAndUpdate: sort, returnDocument and projection', async () => {
    const queue = suite.db.collection('queue');
    await queue.insertMany([
      { name: 'late', status: 'queued', createdAt: new Date(2000) },
      { name: 'early', status: 'queued', createdAt: new Date(1000) },
      { name: 'running', status: 'running', createdAt: new Date(0) },
    ]);
    const claims = await Promise.all(
      [1, 2, 3].map((worker) =>
        queue.findOneAndUpdate(
          { status: 'queued' },
          { $set: { status: 'running', owner: worker } },
          { sort: { createdAt: 1 }, returnDocument: 'after', projection: { name: 1, owner: 1 } },
        ),
      ),
    );
    const claimed = claims.filter((claim) => claim !== null);
    expect(claimed.map((claim) => claim?.name).sort()).toEqual(['early', 'late']);
    expect(claims.filter((claim) => claim === null)).toHaveLength(1);
    expect(claimed[0]).not.toHaveProperty('status');
  });

  it('pages through results with getMore and kills cursors', async () => {
    const many = suite.db.collection('many');
    await many.insertMany(Array.from({ length: 250 }, (_, index) => ({ index })));
    const all = await many.find({}, { batchSize: 20 }).sort({ index: -1 }).toArray();
    expect(all).toHaveLength(250);
    expect(all[0]?.index).toBe(249);
    const cursor = many.find({}, { batchSize: 10 });
    await cursor.next();
    await cursor.close();
  });

  it('aggregates with $lookup across collections, $unwind, $group, $facet and $dateToString', async () => {
    const owners = suite.db.collection('owners');
    const assets = suite.db.collection('assets');
    await owners.insertMany([
      { _id: 'u1' as never, name: 'Ada' },
      { _id: 'u2' as never, name: 'Lin' },
    ]);
    await assets.insertMany([
      { owner: 'u1', bytes: 10, createdAt: new Date('2026-01-01T10:00:00Z'), formats: ['glb', 'ply'] },
      { owner: 'u1', bytes: 20, createdAt: new Date('2026-01-02T10:00:00Z'), formats: ['glb'] },
      { owner: 'u2', bytes: 5, createdAt: new Date('2026-01-02T11:00:00Z'), formats: ['obj'] },
    ]);
    const [result] = await assets
      .aggregate([
        { $lookup: { from: 'owners', localField: 'owner', foreignField: '_id', as: 'ownerDoc' } },
        { $unwind: '$ownerDoc' },
        {
          $facet: {
            perOwner: [
              { $group: { _id: '$ownerDoc.name', bytes: { $sum: '$bytes' } } },
              { $sort: { _id: 1 } },
            ],
            perDay: [
              {
                $group: {
                  _id: { $dateToString: { format: '%Y-%m-%d', date: '$createdAt' } },
                  n: { $sum: 1 },
                },
              },
              { $sort: { _id: 1 } },
            ],
            formats: [
              { $unwind: '$formats' },
              { $group: { _id: '$formats', n: { $sum: 1 } } },
              { $sort: { n: -1, _id: 1 } },
            ],
          },
        },
      ])
      .toArray();
    expect(result).toEqual({
      perOwner: [
        { _id: 'Ada', bytes: 30 },
        { _id: 'Lin', bytes: 5 },
      ],
      perDay: [
        { _id: '2026-01-01', n: 1 },
        { _id: '2026-01-02', n: 2 },
      ],
      formats: [
        { _id: 'glb', n: 2 },
        { _id: 'obj', n: 1 },
        { _id: 'ply', n: 1 },
      ],
    });
  });

  it('lists, creates and drops collections and databases', async () => {
    await suite.db.createCollection('fresh');
    await expect(suite.db.createCollection('fresh')).rejects.toMatchObject({ code: 48 });
    const names = (await suite.db.listCollections({}, { nameOnly: true }).toArray()).map(
      (collection) => collection.name,
    );
    expect(names).toContain('fresh');
    await suite.db.collection('fresh').drop();
    expect(await suite.db.listCollections({ name: 'fresh' }).toArray()).toHaveLength(0);
    const other = suite.client.db(uniqueDatabaseName('dropme'));
    await other.collection('x').insertOne({ a: 1 });
    expect((await suite.client.db().admin().listDatabases()).databases.map((entry) => entry.name)).toContain(
      other.databaseName,
    );
    await other.dropDatabase();
    expect(
      (await suite.client.db().admin().listDatabases()).databases.map((entry) => entry.name),
    ).not.toContain(other.databaseName);
  });

  it('answers _id lookups with inclusion, exclusion and nested projections', async () => {
    const people = suite.db.collection('people');
    const { insertedId } = await people.insertOne({
      name: 'Ada',
      secret: 'x',
      address: { city: 'London', zip: 'N1' },
    });
    expect(await people.findOne({ _id: insertedId }, { projection: { secret: 0 } })).toEqual({
      _id: insertedId,
      name: 'Ada',
      address: { city: 'London', zip: 'N1' },
    });
    expect(await people.findOne({ _id: insertedId }, { projection: { name: 1 } })).toEqual({
      _id: insertedId,
      name: 'Ada',
    });
    expect(
      await people.findOne({ _id: insertedId }, { projection: { 'address.zip': 0, secret: 0 } }),
    ).toEqual({ _id: insertedId, name: 'Ada', address: { city: 'London' } });
    expect(await people.findOne({ _id: new ObjectId() })).toBeNull();
  });

  it('counts and lists distinct values', async () => {
    const shapes = suite.db.collection('shapes');
    await shapes.insertMany([
      { kind: 'cube', colors: ['red', 'blue'] },
      { kind: 'sphere', colors: ['red'] },
      { kind: 'cube' },
    ]);
    expect(await shapes.countDocuments({ kind: 'cube' })).toBe(2);
    expect(await shapes.estimatedDocumentCount()).toBe(3);
    expect(await shapes.distinct('colors')).toEqual(['blue', 'red']);
    expect(await shapes.distinct('kind', { colors: 'red' })).toEqual(['cube', 'sphere']);
  });
});

describe('database-level aggregate', () => {
  it('runs $documents and refuses a first stage that needs a collection by its own name', async () => {
    expect(
      await suite.db.aggregate([{ $documents: [{ x: 1 }, { x: 2 }] }, { $match: { x: 2 } }]).toArray(),
    ).toEqual([{ x: 2 }]);
    await expect(suite.db.aggregate([{ $group: { _id: null } }]).toArray()).rejects.toMatchObject({
      code: 73,
      message: "{aggregate: 1} is not valid for '$group'; a collection is required.",
    });
    await expect(suite.db.aggregate([{ $match: {} }]).toArray()).rejects.toMatchObject({
      code: 73,
      message: "{aggregate: 1} is not valid for '$match'; a collection is required.",
    });
    await expect(suite.db.aggregate([]).toArray()).rejects.toMatchObject({
      code: 73,
      message: '{aggregate: 1} is not valid for an empty pipeline.',
    });
    await expect(suite.db.aggregate([{ $teleport: {} }]).toArray()).rejects.toMatchObject({ code: 40324 });
  });

  it('refuses the collection-less stages it does not emulate with their own errors', async () => {
    await expect(suite.db.aggregate([{ $currentOp: {} }]).toArray()).rejects.toMatchObject({
      code: 73,
      message: "$currentOp must be run against the 'admin' database with {aggregate: 1}",
    });
    await expect(
      suite.client
        .db('admin')
        .aggregate([{ $currentOp: {} }])
        .toArray(),
    ).rejects.toMatchObject({ code: 115, message: '$currentOp is not supported by the embedded server' });
    await expect(suite.db.aggregate([{ $listLocalSessions: {} }]).toArray()).rejects.toMatchObject({
      code: 115,
    });
  });
});

describe('_id with $-prefixed field names', () => {
  const refusal = {
    code: 52,
    message: "_id fields may not contain '$'-prefixed fields: $a is not valid for storage.",
  };

  it('is refused on insert, replacement upsert, update upsert and findAndModify upsert', async () => {
    const items = suite.db.collection<{
      _id: Record<string, unknown> | string;
      v?: number;
      [field: string]: unknown;
    }>('dollar_ids');
    await expect(items.insertOne({ _id: { $a: 1 } })).rejects.toMatchObject(refusal);
    await expect(items.insertOne({ _id: { nested: { $a: 1 } } })).rejects.toMatchObject(refusal);
    await expect(
      items.replaceOne({ v: 1 }, { _id: { $a: 1 }, v: 1 }, { upsert: true }),
    ).rejects.toMatchObject(refusal);
    await expect(
      items.updateOne({ v: 2 }, { $set: { _id: { $a: 1 } } }, { upsert: true }),
    ).rejects.toMatchObject(refusal);
    await expect(
      items.findOneAndUpdate({ v: 3 }, { $setOnInsert: { _id: { $a: 1 } } }, { upsert: true }),
    ).rejects.toMatchObject(refusal);
    await expect(
      items.findOneAndReplace({ v: 4 }, { _id: { $a: 1 } }, { upsert: true }),
    ).rejects.toMatchObject(refusal);
    expect(await items.countDocuments()).toBe(0);
    await items.insertOne({ _id: { a: 1, b: [{ c: 2 }] } });
    // An upsert may still give its document an _id through $set or $setOnInsert.
    await items.updateOne({ v: 5 }, { $set: { _id: 'set' } }, { upsert: true });
    await items.updateOne({ v: 6 }, { $setOnInsert: { _id: 'on-insert' } }, { upsert: true });
    expect(
      await items
        .find({ v: { $exists: true } })
        .sort({ v: 1 })
        .toArray(),
    ).toEqual([
      { _id: 'set', v: 5 },
      { _id: 'on-insert', v: 6 },
    ]);
    expect(await items.countDocuments()).toBe(3);
  });
});
