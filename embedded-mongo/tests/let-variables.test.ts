import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('let_variables');

const byLetId = { $expr: { $eq: ['$_id', '$$id'] } };

async function seeded(name: string) {
  const collection = suite.db.collection<{ _id: number; v?: number | string; w?: unknown }>(name);
  await collection.insertMany([
    { _id: 1, v: 10 },
    { _id: 2, v: 20 },
    { _id: 3, v: 30 },
  ]);
  return collection;
}

describe('let in writes', () => {
  it('updateOne, updateMany and replaceOne read let variables in $expr', async () => {
    const items = await seeded('let_update');
    await expect(items.updateOne(byLetId, { $set: { w: 'one' } }, { let: { id: 2 } })).resolves.toMatchObject(
      { matchedCount: 1, modifiedCount: 1 },
    );
    await items.updateMany(
      { $expr: { $gte: ['$v', '$$low'] } },
      { $set: { w: 'many' } },
      { let: { low: 20 } },
    );
    await items.replaceOne(byLetId, { v: 'replaced' }, { let: { id: 1 } });
    expect(await items.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, v: 'replaced' },
      { _id: 2, v: 20, w: 'many' },
      { _id: 3, v: 30, w: 'many' },
    ]);
  });

  it('a pipeline-style update sees let variables and statement constants (c)', async () => {
    const items = await seeded('let_pipeline');
    await items.updateOne(byLetId, [{ $set: { w: { $add: ['$v', '$$bonus'] } } }], {
      let: { id: 3, bonus: 5 },
    });
    expect(await items.findOne({ _id: 3 })).toEqual({ _id: 3, v: 30, w: 35 });
    await suite.db.command({
      update: 'let_pipeline',
      updates: [{ q: { _id: 1 }, u: [{ $set: { w: '$$label' } }], c: { label: 'constant' } }],
    });
    expect(await items.findOne({ _id: 1 })).toEqual({ _id: 1, v: 10, w: 'constant' });
    const reply = await suite.db.command({
      update: 'let_pipeline',
      updates: [{ q: { _id: 1 }, u: { $set: { w: 1 } }, c: { label: 'x' } }],
    });
    expect(reply.writeErrors).toEqual([
      expect.objectContaining({
        code: 51198,
        errmsg: 'Constant values may only be specified for pipeline updates',
      }),
    ]);
  });

  it('an upsert through a pipeline reads let variables', async () => {
    const items = await seeded('let_upsert');
    await items.updateOne({ _id: 9 }, [{ $set: { w: '$$tag' } }], { upsert: true, let: { tag: 'new' } });
    expect(await items.findOne({ _id: 9 })).toEqual({ _id: 9, w: 'new' });
  });

  it('deleteOne and deleteMany read let variables', async () => {
    const items = await seeded('let_delete');
    await expect(items.deleteOne(byLetId, { let: { id: 1 } })).resolves.toMatchObject({ deletedCount: 1 });
    await expect(
      items.deleteMany({ $expr: { $gt: ['$v', '$$limit'] } }, { let: { limit: 25 } }),
    ).resolves.toMatchObject({ deletedCount: 1 });
    expect(await items.find().toArray()).toEqual([{ _id: 2, v: 20 }]);
  });

  it('findOneAndUpdate, findOneAndReplace and findOneAndDelete read let variables', async () => {
    const items = await seeded('let_fam');
    await expect(
      items.findOneAndUpdate(byLetId, [{ $set: { w: '$$mark' } }], {
        let: { id: 2, mark: 'updated' },
        returnDocument: 'after',
      }),
    ).resolves.toEqual({ _id: 2, v: 20, w: 'updated' });
    await expect(
      items.findOneAndReplace(byLetId, { v: 'r' }, { let: { id: 3 }, returnDocument: 'after' }),
    ).resolves.toEqual({ _id: 3, v: 'r' });
    await expect(items.findOneAndDelete(byLetId, { let: { id: 1 } })).resolves.toEqual({ _id: 1, v: 10 });
    expect(await items.countDocuments()).toBe(2);
  });

  it('bulkWrite passes let to its update and delete commands', async () => {
    const items = await seeded('let_bulk');
    const result = await items.bulkWrite(
      [
        { updateOne: { filter: byLetId, update: { $set: { w: 'bulk' } } } },
        { deleteOne: { filter: { $expr: { $eq: ['$_id', '$$gone'] } } } },
      ],
      { let: { id: 1, gone: 3 } },
    );
    expect(result).toMatchObject({ modifiedCount: 1, deletedCount: 1 });
    expect(await items.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, v: 10, w: 'bulk' },
      { _id: 2, v: 20 },
    ]);
  });
});

describe('let in reads', () => {
  it('find reads let variables in $expr', async () => {
    const items = await seeded('let_find');
    expect(await items.find(byLetId, { let: { id: 2 } }).toArray()).toEqual([{ _id: 2, v: 20 }]);
  });

  it('aggregate evaluates let values as expressions: $literal, $rand, arithmetic, $$NOW, earlier variables', async () => {
    const items = await seeded('let_aggregate');
    const before = Date.now();
    const [result] = await items
      .aggregate(
        [
          { $match: { $expr: { $eq: ['$_id', '$$id'] } } },
          {
            $project: {
              _id: 0,
              literal: '$$literal',
              random: '$$random',
              sum: '$$sum',
              now: '$$now',
              twice: '$$twice',
            },
          },
        ],
        {
          let: {
            id: 1,
            literal: { $literal: '$bar' },
            random: { $rand: {} },
            sum: { $add: [1, 2] },
            now: '$$NOW',
            twice: { $multiply: ['$$sum', 2] },
          },
        },
      )
      .toArray();
    expect(result).toMatchObject({ literal: '$bar', sum: 3, twice: 6 });
    expect(typeof result?.random).toBe('number');
    expect(result?.random).toBeGreaterThanOrEqual(0);
    expect(result?.random).toBeLessThan(1);
    expect(result?.now).toBeInstanceOf(Date);
    expect((result?.now as Date).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('refuses let values that read a document, bad variable names and $$CLUSTER_TIME on a standalone', async () => {
    const items = await seeded('let_refused');
    await expect(items.find({}, { let: { x: '$v' } }).toArray()).rejects.toMatchObject({ code: 4890500 });
    await expect(items.aggregate([], { let: { Upper: 1 } }).toArray()).rejects.toMatchObject({
      code: 16867,
      message: "'Upper' starts with an invalid character for a user variable name",
    });
    await expect(items.aggregate([], { let: { 'a-b': 1 } }).toArray()).rejects.toMatchObject({ code: 16868 });
    await expect(items.aggregate([], { let: { t: '$$CLUSTER_TIME' } }).toArray()).rejects.toMatchObject({
      code: 51144,
    });
    await expect(
      items.aggregate([{ $project: { x: '$$undefinedVariable' } }]).toArray(),
    ).rejects.toMatchObject({ code: 17276 });
  });
});
