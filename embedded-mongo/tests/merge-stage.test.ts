import { ObjectId, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('merge');

let collectionCount = 0;

/** A fresh source and target collection, seeded; every test writes into its own pair. */
async function seeded(source: Document[], target: Document[] = []) {
  collectionCount += 1;
  const names = { source: `source_${collectionCount}`, target: `target_${collectionCount}` };
  if (source.length > 0) await suite.db.collection(names.source).insertMany(source);
  if (target.length > 0) await suite.db.collection(names.target).insertMany(target);
  return {
    ...names,
    merge: (stage: unknown, before: Document[] = []) =>
      suite.db
        .collection(names.source)
        .aggregate([...before, { $merge: stage }])
        .toArray(),
    targetDocs: () => suite.db.collection(names.target).find().sort({ _id: 1 }).toArray(),
  };
}

describe('$merge modes', () => {
  it('merges matched documents field by field and inserts the rest by default, answering an empty cursor', async () => {
    const run = await seeded(
      [
        { _id: 1, a: 1, b: 10 },
        { _id: 2, a: 2 },
      ],
      [{ _id: 1, b: 1, kept: true }],
    );
    expect(await run.merge({ into: run.target })).toEqual([]);
    expect(await run.targetDocs()).toEqual([
      { _id: 1, b: 10, kept: true, a: 1 },
      { _id: 2, a: 2 },
    ]);
    // The string form is `into` with the same defaults.
    await suite.db.collection<{ _id: number }>(run.source).updateOne({ _id: 2 }, { $set: { c: 3 } });
    expect(await run.merge(run.target)).toEqual([]);
    expect(await run.targetDocs()).toEqual([
      { _id: 1, b: 10, kept: true, a: 1 },
      { _id: 2, a: 2, c: 3 },
    ]);
  });

  it('appends the fields a merge adds in field-name order, as mongod 5.0+ update operators do', async () => {
    const run = await seeded([{ _id: 1, z: 1, b: 2, a: 3 }], [{ _id: 1, b: 0 }]);
    await run.merge({ into: run.target, whenNotMatched: 'discard' });
    const [merged] = await run.targetDocs();
    expect(Object.keys(merged ?? {})).toEqual(['_id', 'b', 'a', 'z']);
  });

  it('creates a missing target and gives results without an _id a generated one', async () => {
    const run = await seeded([{ a: 1 }, { a: 2 }]);
    await run.merge({ into: run.target }, [{ $project: { _id: 0, a: 1 } }]);
    const docs = await run.targetDocs();
    expect(docs.map(({ a }) => a as number).sort()).toEqual([1, 2]);
    for (const doc of docs) expect(doc._id).toBeInstanceOf(ObjectId);
  });

  it('whenMatched replace swaps whole documents; whenNotMatched discard drops the unmatched', async () => {
    const run = await seeded(
      [
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
      ],
      [{ _id: 1, b: 1 }],
    );
    await run.merge({ into: run.target, whenMatched: 'replace', whenNotMatched: 'discard' });
    expect(await run.targetDocs()).toEqual([{ _id: 1, a: 1 }]);
    await run.merge({ into: run.target, whenMatched: 'replace', whenNotMatched: 'insert' });
    expect(await run.targetDocs()).toEqual([
      { _id: 1, a: 1 },
      { _id: 2, a: 2 },
    ]);
  });

  it('whenMatched merge with whenNotMatched discard changes only the matched', async () => {
    const run = await seeded(
      [
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
      ],
      [{ _id: 1, b: 1 }],
    );
    await run.merge({ into: run.target, whenMatched: 'merge', whenNotMatched: 'discard' });
    expect(await run.targetDocs()).toEqual([{ _id: 1, b: 1, a: 1 }]);
  });

  it('keepExisting leaves matched documents as they were and inserts the rest', async () => {
    const run = await seeded(
      [
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
      ],
      [{ _id: 1, b: 1 }],
    );
    await run.merge({ into: run.target, whenMatched: 'keepExisting', whenNotMatched: 'insert' });
    expect(await run.targetDocs()).toEqual([
      { _id: 1, b: 1 },
      { _id: 2, a: 2 },
    ]);
  });

  it('whenMatched fail refuses a match with DuplicateKey 11000, the other documents of the batch written', async () => {
    const run = await seeded(
      [
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
        { _id: 3, a: 3 },
      ],
      [{ _id: 2, b: 2 }],
    );
    const failure = run.merge({ into: run.target, whenMatched: 'fail', whenNotMatched: 'insert' });
    await expect(failure).rejects.toMatchObject({
      code: 11000,
      keyPattern: { _id: 1 },
      keyValue: { _id: 2 },
    });
    await expect(failure).rejects.toThrow(
      /^\$merge with whenMatched: fail found an existing document with the same values for the 'on' fields :: caused by :: E11000 duplicate key error/,
    );
    expect(await run.targetDocs()).toEqual([
      { _id: 1, a: 1 },
      { _id: 2, b: 2 },
      { _id: 3, a: 3 },
    ]);
  });

  it('whenNotMatched fail writes every match of the batch, then fails with 13113', async () => {
    const outcomes: Array<[unknown, Document[]]> = [
      [
        'replace',
        [
          { _id: 1, a: 1 },
          { _id: 3, a: 3 },
        ],
      ],
      [
        'merge',
        [
          { _id: 1, b: 1, a: 1 },
          { _id: 3, b: 3, a: 3 },
        ],
      ],
      [
        [{ $set: { seen: '$$new.a' } }],
        [
          { _id: 1, b: 1, seen: 1 },
          { _id: 3, b: 3, seen: 3 },
        ],
      ],
    ];
    for (const [whenMatched, expected] of outcomes) {
      const run = await seeded(
        [
          { _id: 1, a: 1 },
          { _id: 2, a: 2 },
          { _id: 3, a: 3 },
        ],
        [
          { _id: 1, b: 1 },
          { _id: 3, b: 3 },
        ],
      );
      const failure = run.merge({ into: run.target, whenMatched, whenNotMatched: 'fail' });
      await expect(failure).rejects.toMatchObject({
        code: 13113,
        codeName: 'MergeStageNoMatchingDocument',
      });
      await expect(failure).rejects.toThrow(
        '$merge could not find a matching document in the target collection for at least one document in the source collection',
      );
      // The document after the unmatched one is written too: the batch is unordered.
      expect(await run.targetDocs()).toEqual(expected);
    }
  });

  it('runs a whenMatched pipeline on the matched document with $$new, let variables and the aggregate let', async () => {
    const run = await seeded(
      [
        { _id: 1, qty: 2 },
        { _id: 2, qty: 5 },
      ],
      [{ _id: 1, qty: 10, history: [] }],
    );
    await suite.db.command({
      aggregate: run.source,
      pipeline: [
        {
          $merge: {
            into: run.target,
            let: { added: '$qty', label: { $concat: ['added ', { $toString: '$qty' }] } },
            whenMatched: [
              { $set: { qty: { $add: ['$qty', '$$added'] }, history: ['$$label', '$$note'] } },
              { $set: { fromNew: '$$new._id' } },
            ],
            whenNotMatched: 'insert',
          },
        },
      ],
      let: { note: 'nightly' },
      cursor: {},
    });
    expect(await run.targetDocs()).toEqual([
      { _id: 1, qty: 12, history: ['added 2', 'nightly'], fromNew: 1 },
      // Unmatched with a pipeline: the result itself is inserted.
      { _id: 2, qty: 5 },
    ]);
  });

  it('gives a whenMatched pipeline `new` by default and keeps the target _id when the pipeline drops it', async () => {
    const run = await seeded([{ _id: 1, v: 'new' }], [{ _id: 1, v: 'old' }]);
    await run.merge({
      into: run.target,
      whenMatched: [{ $replaceWith: { previous: '$v', current: '$$new.v' } }],
      whenNotMatched: 'discard',
    });
    expect(await run.targetDocs()).toEqual([{ _id: 1, previous: 'old', current: 'new' }]);
  });

  it('refuses a whenMatched pipeline stage an update cannot run, and let outside a pipeline', async () => {
    const run = await seeded([{ _id: 1 }], [{ _id: 1, kept: true }]);
    await expect(run.merge({ into: run.target, whenMatched: [{ $match: {} }] })).rejects.toMatchObject({
      code: 72,
      message: '$match is not allowed to be used within an update',
    });
    await expect(run.merge({ into: run.target, whenMatched: [{ $teleport: {} }] })).rejects.toMatchObject({
      code: 40324,
    });
    await expect(
      run.merge({ into: run.target, whenMatched: [{ $set: { a: 1 } }], let: { new: '$other' } }),
    ).rejects.toMatchObject({ code: 51273 });
    await expect(
      run.merge({ into: run.target, whenMatched: [{ $set: { a: 1 } }], let: { Bad: 1 } }),
    ).rejects.toMatchObject({ code: 16867 });
    await expect(
      run.merge({ into: run.target, whenMatched: 'replace', let: { x: 1 } }),
    ).rejects.toMatchObject({
      code: 51199,
      message: "Cannot use 'let' variables with 'whenMatched: replace' mode",
    });
    expect(await run.targetDocs()).toEqual([{ _id: 1, kept: true }]);
  });
});

describe('$merge on fields', () => {
  it('needs a unique index on exactly the on fields, not partial (51183)', async () => {
    const run = await seeded([{ a: 1, b: 1 }], [{ a: 0, b: 0 }]);
    const target = suite.db.collection(run.target);
    const refused = { code: 51183, message: 'Cannot find index to verify that join fields will be unique' };
    await expect(run.merge({ into: run.target, on: 'a' })).rejects.toMatchObject(refused);
    await target.createIndex({ a: 1 });
    await expect(run.merge({ into: run.target, on: 'a' })).rejects.toMatchObject(refused);
    await target.createIndex({ a: 1, b: 1 }, { unique: true });
    await expect(run.merge({ into: run.target, on: 'a' })).rejects.toMatchObject(refused);
    await target.createIndex({ b: 1 }, { unique: true, partialFilterExpression: { b: { $gt: 5 } } });
    await expect(run.merge({ into: run.target, on: 'b' })).rejects.toMatchObject(refused);
    // A missing target only supports _id.
    await expect(run.merge({ into: 'no_such_target', on: 'a' })).rejects.toMatchObject(refused);
    expect(await suite.db.listCollections({ name: 'no_such_target' }).toArray()).toEqual([]);
    // The compound unique index supports the same fields in any order.
    await run.merge({ into: run.target, on: ['b', 'a'] }, [{ $project: { _id: 0 } }]);
    expect(await target.countDocuments()).toBe(2);
  });

  it('matches by a unique compound index, keeping the target _id and generating one for inserts', async () => {
    const run = await seeded(
      [
        { _id: 10, region: 'eu', day: 1, total: 5 },
        { _id: 11, region: 'us', day: 1, total: 7 },
      ],
      [{ _id: 'keep', region: 'eu', day: 1, total: 1 }],
    );
    await suite.db.collection(run.target).createIndex({ region: 1, day: 1 }, { unique: true });
    await run.merge({ into: run.target, on: ['region', 'day'], whenMatched: 'replace' }, [
      { $project: { _id: 0 } },
    ]);
    const docs = await suite.db.collection(run.target).find().sort({ region: 1 }).toArray();
    expect(docs[0]).toEqual({ _id: 'keep', region: 'eu', day: 1, total: 5 });
    expect(docs[1]).toMatchObject({ region: 'us', day: 1, total: 7 });
    expect(docs[1]?._id).toBeInstanceOf(ObjectId);
  });

  it('matches on a dotted field path', async () => {
    const run = await seeded([{ _id: 1, key: { code: 'x' }, v: 2 }], [{ _id: 9, key: { code: 'x' }, v: 1 }]);
    await suite.db.collection(run.target).createIndex({ 'key.code': 1 }, { unique: true });
    await run.merge({ into: run.target, on: 'key.code' }, [{ $project: { _id: 0 } }]);
    expect(await run.targetDocs()).toEqual([{ _id: 9, key: { code: 'x' }, v: 2 }]);
  });

  it('refuses a result whose on field is missing, null or an array before its batch is written (51132, 51185)', async () => {
    const run = await seeded([
      { _id: 1, k: 1 },
      { _id: 2, k: null },
    ]);
    await suite.db.collection(run.target).createIndex({ k: 1 }, { unique: true });
    await expect(run.merge({ into: run.target, on: 'k' })).rejects.toMatchObject({
      code: 51132,
      message: "$merge write error: 'on' field 'k' cannot be missing, null, undefined or an array",
    });
    await expect(run.merge({ into: run.target, on: 'k' }, [{ $set: { k: ['$k'] } }])).rejects.toMatchObject({
      code: 51185,
      message: "$merge write error: 'on' field 'k' is an array",
    });
    expect(await run.targetDocs()).toEqual([]);
  });

  it('refuses to change a matched _id (ImmutableField 66, with mongod context)', async () => {
    const run = await seeded([{ _id: 1, k: 'a' }], [{ _id: 2, k: 'a' }]);
    await suite.db.collection(run.target).createIndex({ k: 1 }, { unique: true });
    await expect(run.merge({ into: run.target, on: 'k' })).rejects.toMatchObject({
      code: 66,
      message: expect.stringMatching(
        /^\$merge failed to update the matching document, did you attempt to modify the _id or the shard key\? :: caused by :: /,
      ) as unknown,
    });
    expect(await run.targetDocs()).toEqual([{ _id: 2, k: 'a' }]);
  });

  it("respects the target's other unique indexes (11000) and keeps what the batch wrote", async () => {
    const run = await seeded(
      [
        { _id: 1, email: 'a@x' },
        { _id: 2, email: 'taken@x' },
        { _id: 3, email: 'c@x' },
      ],
      [{ _id: 9, email: 'taken@x' }],
    );
    await suite.db.collection(run.target).createIndex({ email: 1 }, { unique: true });
    const failure = run.merge({ into: run.target });
    await expect(failure).rejects.toMatchObject({ code: 11000, keyPattern: { email: 1 } });
    await expect(failure).rejects.toThrow(
      /^\$merge failed due to a DuplicateKey error :: caused by :: E11000 duplicate key error collection: .*index: email_1/,
    );
    expect((await run.targetDocs()).map(({ _id }) => _id as unknown)).toEqual([1, 3, 9]);
  });
});

describe('$merge targets', () => {
  it('writes into another database given {db, coll}, creating the collection', async () => {
    const run = await seeded([{ _id: 1, a: 1 }]);
    const other = suite.client.db(`${suite.db.databaseName}_other`);
    try {
      await run.merge({ into: { db: other.databaseName, coll: 'copied' } });
      expect(await other.collection('copied').find().toArray()).toEqual([{ _id: 1, a: 1 }]);
      // Only coll: the aggregate's database.
      await run.merge({ into: { coll: run.target } });
      expect(await run.targetDocs()).toEqual([{ _id: 1, a: 1 }]);
    } finally {
      await other.dropDatabase();
    }
  });

  it('merges into the collection being aggregated, as 7.0 allows', async () => {
    const run = await seeded([
      { _id: 1, a: 1 },
      { _id: 2, a: 2 },
    ]);
    await run.merge({ into: run.source, whenMatched: 'merge', whenNotMatched: 'fail' }, [
      { $project: { double: { $multiply: ['$a', 2] } } },
    ]);
    expect(await suite.db.collection(run.source).find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, a: 1, double: 2 },
      { _id: 2, a: 2, double: 4 },
    ]);
  });

  it('keeps the batches written before the one that fails', async () => {
    // mongod writes $merge results in batches of up to 16 MiB: 2 MB documents make eight per batch.
    const padding = 'x'.repeat(2_000_000);
    const docs = Array.from({ length: 10 }, (_, index) => ({ _id: index, k: index, padding }));
    const run = await seeded(docs);
    await suite.db.collection(run.target).createIndex({ k: 1 }, { unique: true });
    // The last result has no `k`: its batch (the ninth document and it) is refused before being written.
    await expect(
      run.merge({ into: run.target, on: 'k' }, [
        { $sort: { _id: 1 } },
        { $set: { k: { $cond: [{ $eq: ['$_id', 9] }, null, '$k'] } } },
      ]),
    ).rejects.toMatchObject({ code: 51132 });
    const written = await suite.db
      .collection(run.target)
      .find({}, { projection: { padding: 0 } })
      .sort({ k: 1 })
      .toArray();
    expect(written.map(({ k }) => k as number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('must be the last stage (40601) and stays out of $facet, $lookup and $unionWith', async () => {
    const run = await seeded([{ _id: 1 }]);
    const source = suite.db.collection(run.source);
    await expect(source.aggregate([{ $merge: run.target }, { $match: {} }]).toArray()).rejects.toMatchObject({
      code: 40601,
      message: '$merge can only be the final stage in the pipeline',
    });
    await expect(
      source.aggregate([{ $facet: { a: [{ $merge: run.target }] } }]).toArray(),
    ).rejects.toMatchObject({
      code: 40600,
      message: '$merge is not allowed to be used within a $facet stage',
    });
    await expect(
      source
        .aggregate([{ $lookup: { from: run.target, pipeline: [{ $merge: run.target }], as: 'x' } }])
        .toArray(),
    ).rejects.toMatchObject({ code: 51047 });
    await expect(
      source.aggregate([{ $unionWith: { coll: run.target, pipeline: [{ $out: run.target }] } }]).toArray(),
    ).rejects.toMatchObject({
      code: 31441,
      message: "$out is not allowed within a $unionWith's sub-pipeline",
    });
    expect(await suite.db.listCollections({ name: run.target }).toArray()).toEqual([]);
  });

  it('refuses bad specifications with mongod codes', async () => {
    const run = await seeded([{ _id: 1 }]);
    const cases: Array<[unknown, number]> = [
      [1, 14],
      [{}, 40414],
      [{ into: 'x', bogus: 1 }, 40415],
      [{ into: '' }, 5786800],
      [{ into: 5 }, 51178],
      [{ into: { db: 'x' } }, 5786801],
      [{ into: { coll: 'x', extra: 1 } }, 40415],
      [{ into: { coll: 'x', db: 1 } }, 14],
      [{ into: { db: 'bad.name', coll: 'x' } }, 73],
      [{ into: 'x', on: 5 }, 51186],
      [{ into: 'x', on: [] }, 51187],
      [{ into: 'x', on: [1] }, 51134],
      [{ into: 'x', on: ['_id', '_id'] }, 31465],
      [{ into: 'x', on: '$a' }, 16410],
      [{ into: 'x', whenMatched: 'bogus' }, 2],
      [{ into: 'x', whenMatched: 'pipeline' }, 2],
      [{ into: 'x', whenMatched: 5 }, 51191],
      [{ into: 'x', whenMatched: [5] }, 14],
      [{ into: 'x', whenNotMatched: 'bogus' }, 2],
      [{ into: 'x', whenNotMatched: 1 }, 14],
      [{ into: 'x', whenMatched: 'keepExisting', whenNotMatched: 'discard' }, 51181],
      [{ into: 'x', whenMatched: 'fail', whenNotMatched: 'fail' }, 51181],
      [{ into: 'x', let: 1, whenMatched: [] }, 14],
      [{ into: 'system.views' }, 31319],
      [{ into: { db: 'admin', coll: 'x' } }, 31320],
    ];
    for (const [stage, code] of cases) {
      await expect(run.merge(stage), JSON.stringify(stage)).rejects.toMatchObject({ code });
    }
    expect(await suite.db.listCollections({ name: 'x' }).toArray()).toEqual([]);
  });
});

describe('$out edge cases', () => {
  it('refuses $out not last (40601) and malformed targets with mongod codes', async () => {
    const run = await seeded([{ _id: 1 }]);
    const source = suite.db.collection(run.source);
    await expect(source.aggregate([{ $out: run.target }, { $match: {} }]).toArray()).rejects.toMatchObject({
      code: 40601,
      message: '$out can only be the final stage in the pipeline',
    });
    await expect(source.aggregate([{ $out: 5 }]).toArray()).rejects.toMatchObject({ code: 16990 });
    await expect(source.aggregate([{ $out: { db: suite.db.databaseName } }]).toArray()).rejects.toMatchObject(
      {
        code: 40414,
        message: "BSON field '$out.coll' is missing but a required field",
      },
    );
    // 7.0 needs the database in the object form.
    await expect(source.aggregate([{ $out: { coll: run.target } }]).toArray()).rejects.toMatchObject({
      code: 40414,
      message: "BSON field '$out.db' is missing but a required field",
    });
    await expect(source.aggregate([{ $out: 'system.js' }]).toArray()).rejects.toMatchObject({ code: 17385 });
    await expect(source.aggregate([{ $out: { db: 'local', coll: 'x' } }]).toArray()).rejects.toMatchObject({
      code: 31321,
    });
    await expect(source.aggregate([{ $out: { coll: run.target, x: 1 } }]).toArray()).rejects.toMatchObject({
      code: 40415,
    });
    expect(await suite.db.listCollections({ name: run.target }).toArray()).toEqual([]);
    await source.aggregate([{ $out: { db: suite.db.databaseName, coll: run.target } }]).toArray();
    expect(await run.targetDocs()).toEqual([{ _id: 1 }]);
  });
});
