import { Decimal128, Long, ObjectId, type Collection, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('sort_walks');

const owners = [new ObjectId(), new ObjectId(), new ObjectId(), new ObjectId()];
const base = Date.UTC(2026, 11, 3, 12);

/** Sort keys that tie, mix numeric types, and go missing or null; `_id`s not in insertion order. */
function job(index: number, id: ObjectId): Document {
  const rank = [0, 1, Long.fromNumber(1), Decimal128.fromString('0.5'), undefined, null][index % 6];
  return {
    _id: id,
    ownerId: owners[index % 4],
    status: ['queued', 'queued', 'running', undefined][index % 4],
    ...(rank === undefined ? {} : { fairRank: rank }),
    ...(index % 11 === 0 ? {} : { createdAt: new Date(base + (index % 7) * 1_000) }),
  };
}

function jobs(count: number): Document[] {
  const ids = Array.from({ length: count }, () => new ObjectId());
  // Inserted out of `_id` order, so ties broken by insertion order and by `_id` differ.
  return ids.map((id, index) => job(index, ids[(index * 37) % count] as ObjectId));
}

const CLAIM_ORDER = { fairRank: 1, createdAt: 1, _id: 1 } as const;

/** A collection with the indexes a walk may use, and the same documents with only the `_id` index. */
async function twins(name: string, documents: Document[]): Promise<[Collection, Collection]> {
  const indexed = suite.db.collection(`${name}_indexed`);
  const plain = suite.db.collection(`${name}_plain`);
  await indexed.createIndex({ status: 1, fairRank: 1, createdAt: 1, _id: 1 });
  await indexed.createIndex({ ownerId: 1, createdAt: -1 });
  await indexed.createIndex({ createdAt: -1 });
  await indexed.insertMany(documents.map((doc) => ({ ...doc })));
  await plain.insertMany(documents.map((doc) => ({ ...doc })));
  return [indexed, plain];
}

const FILTERS: Document[] = [
  { status: 'queued' },
  { status: { $eq: 'queued' }, ownerId: owners[1] },
  { status: { $in: ['queued'] }, ownerId: { $nin: [owners[0]] } },
  { status: 'queued', createdAt: { $lte: new Date(base + 3_000) } },
  { status: null },
  { ownerId: owners[2] },
  { ownerId: owners[3], status: 'running' },
  {},
];

const SORTS: Array<Record<string, 1 | -1>> = [
  CLAIM_ORDER,
  { fairRank: -1, createdAt: -1, _id: -1 },
  { fairRank: 1, createdAt: 1 },
  { fairRank: 1 },
  { createdAt: -1 },
  { createdAt: -1, _id: -1 },
  { createdAt: 1, _id: 1 },
  // Mixed directions: no walk gives them (every field is kept ascending), a sort does.
  { fairRank: 1, createdAt: -1 },
];

/** A document's values of the sort's fields as they compare: numbers of every type alike, missing as null. */
const sortValues =
  (sort: Record<string, 1 | -1>) =>
  (doc: Document): unknown[] =>
    Object.keys(sort).map((field) => {
      const value: unknown = doc[field];
      if (value === undefined || value === null) return null;
      if (value instanceof Long || value instanceof Decimal128) return Number(value.toString());
      return value;
    });

async function expectSameFinds(indexed: Collection, plain: Collection): Promise<void> {
  for (const filter of FILTERS)
    for (const sort of SORTS)
      for (const [skip, limit] of [
        [0, 1],
        [2, 5],
        [0, 60],
      ] as const) {
        const walked = await indexed.find(filter).sort(sort).skip(skip).limit(limit).toArray();
        const scanned = await plain.find(filter).sort(sort).skip(skip).limit(limit).toArray();
        const label = `${JSON.stringify(filter)} ${JSON.stringify(sort)} ${skip}/${limit}`;
        // Without `_id` last, the sort leaves ties in an order of the server's choosing (as in mongod).
        if (Object.keys(sort).at(-1) === '_id') expect(walked, label).toEqual(scanned);
        else expect(walked.map(sortValues(sort)), label).toEqual(scanned.map(sortValues(sort)));
      }
}

/** Claims the first queued job in claim order until none is left, as the app's workers do; the claimed `_id`s in order. */
async function claimAll(collection: Collection, excluded: ObjectId[]): Promise<string[]> {
  const claimed: string[] = [];
  for (;;) {
    const job = await collection.findOneAndUpdate(
      { status: 'queued', createdAt: { $lte: new Date(base + 10_000) }, ownerId: { $nin: excluded } },
      { $set: { status: 'running' } },
      { sort: CLAIM_ORDER, returnDocument: 'after' },
    );
    if (!job) return claimed;
    claimed.push(String(job._id));
    // Index entries move as documents change: a re-ranked job takes its new place at once.
    if (claimed.length % 5 === 0) {
      const [next] = await collection
        .find({ status: 'queued', ownerId: owners[1] })
        .sort({ _id: 1 })
        .limit(1)
        .toArray();
      if (next) await collection.updateOne({ _id: next._id }, { $set: { fairRank: claimed.length } });
    }
  }
}

describe('sorted reads and claims walk compound indexes', () => {
  it('find the same documents in the same order as a scan and sort', async () => {
    const [indexed, plain] = await twins('finds', jobs(120));
    await expectSameFinds(indexed, plain);
  });

  it('claim queued jobs in the same order as a scan, with index entries following every change', async () => {
    const [indexed, plain] = await twins('claims', jobs(120));
    const walked = await claimAll(indexed, [owners[3] as ObjectId]);
    const scanned = await claimAll(plain, [owners[3] as ObjectId]);
    expect(walked.length).toBeGreaterThan(20);
    expect(walked).toEqual(scanned);
  });

  it('sort arrays in indexed fields as the engine does (no walk once an array is indexed)', async () => {
    const documents = jobs(40);
    const [indexed, plain] = await twins('arrays', documents);
    // An empty array and a one-element array each make a single index entry, yet sort apart from it.
    const withArrays = [
      { status: 'queued', fairRank: 0, createdAt: [] },
      { status: 'queued', fairRank: 0, createdAt: [new Date(base - 5_000)] },
      { status: 'queued', fairRank: [1], ownerId: owners[2] },
    ];
    for (const doc of withArrays) {
      const _id = new ObjectId();
      await indexed.insertOne({ _id, ...doc });
      await plain.insertOne({ _id, ...doc });
    }
    await expectSameFinds(indexed, plain);
  });

  it('order ties by `_id` value when some `_id`s are not ObjectIds', async () => {
    const indexed = suite.db.collection('other_ids_indexed');
    const plain = suite.db.collection('other_ids_plain');
    await indexed.createIndex({ b: 1 });
    const documents: Document[] = [
      { _id: new ObjectId(), b: 1 },
      { _id: 'x', b: 1 },
      { _id: { k: 1 }, b: 1 },
    ];
    for (const collection of [indexed, plain])
      await collection.insertMany(documents.map((doc) => ({ ...doc })));
    for (const sort of [
      { b: 1, _id: 1 },
      { b: -1, _id: -1 },
    ] as const) {
      const walked = await indexed.find({}).sort(sort).limit(1).toArray();
      expect(walked, JSON.stringify(sort)).toEqual(await plain.find({}).sort(sort).limit(1).toArray());
      const claimed = await indexed.findOneAndUpdate({}, { $inc: { n: 1 } }, { sort });
      const scanned = await plain.findOneAndUpdate({}, { $inc: { n: 1 } }, { sort });
      expect(claimed?._id, JSON.stringify(sort)).toEqual(scanned?._id);
    }
  });

  it("read only the filter's own fields as equalities, not Object.prototype names", async () => {
    const indexed = suite.db.collection('prototype_names_indexed');
    const plain = suite.db.collection('prototype_names_plain');
    await indexed.createIndex({ constructor: 1, b: 1 });
    const documents = Array.from({ length: 10 }, (_, index) => ({
      _id: new ObjectId(),
      constructor: index % 2,
      b: index,
    }));
    for (const collection of [indexed, plain])
      await collection.insertMany(documents.map((doc) => ({ ...doc })));
    const walked = await indexed
      .find({ b: { $gte: 0 } })
      .sort({ b: 1 })
      .limit(3)
      .toArray();
    expect(walked.map(({ b }) => b)).toEqual([0, 1, 2]);
    expect(walked).toEqual(
      await plain
        .find({ b: { $gte: 0 } })
        .sort({ b: 1 })
        .limit(3)
        .toArray(),
    );
  });

  it('stop walking once an update makes an indexed field an array with the same index entry', async () => {
    const [indexed, plain] = await twins('updated_arrays', jobs(40));
    // A missing field and an empty array both make a null entry, yet sort apart.
    for (const collection of [indexed, plain])
      await collection.updateMany({ fairRank: { $exists: false } }, { $set: { fairRank: [] } });
    await expectSameFinds(indexed, plain);
  });
});
