import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('native_stages');

const owner = new ObjectId();
const DAY = 86_400_000;
const base = Date.UTC(2026, 2, 28, 12);

/** Documents with the shapes that decide the edge cases: nulls, missing fields, mixed types, arrays, dates. */
const documents = Array.from({ length: 60 }, (_, index) => ({
  ownerId: index % 3 === 0 ? owner : new ObjectId(),
  status: ['succeeded', 'failed', 'queued', null][index % 4],
  ...(index % 5 === 0 ? {} : { computeMs: index % 7 === 0 ? String(index) : index * 10 }),
  createdAt: new Date(base - (index % 6) * DAY - index * 3_600_000),
  prompt: `  Prompt ${index % 4}  `,
  params: { modelServer: index % 2 ? 'reference' : 'meshy' },
  error: index % 4 === 1 ? { code: index % 8 === 1 ? 'TIMEOUT' : 'INVALID' } : null,
  ...(index === 59 ? { tags: ['a', 'b'] } : {}),
}));

/** The same pipeline through the general engine: a leading stage the native paths do not take. */
const viaEngine = (pipeline: object[]) => [{ $addFields: { forcedThroughEngine: true } }, ...pipeline];
const sorted = <T>(rows: T[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('native $match, $sort and $group', () => {
  it('answer exactly as the general engine', async () => {
    const jobs = suite.db.collection('jobs');
    await jobs.insertMany(documents);
    await jobs.createIndex({ ownerId: 1, createdAt: -1 });
    await jobs.createIndex({ createdAt: -1 });
    const pipelines: object[][] = [
      [
        {
          $group: {
            _id: '$status',
            count: { $sum: 1 },
            total: { $sum: '$computeMs' },
            average: { $avg: '$computeMs' },
            longest: { $max: '$computeMs' },
            first: { $min: '$createdAt' },
          },
        },
      ],
      [
        {
          $group: {
            _id: { status: '$status', server: '$params.modelServer', code: '$error.code' },
            count: { $sum: 1 },
          },
        },
      ],
      [
        {
          $group: {
            _id: { $dateToString: { format: '%Y-%m-%d %H', date: '$createdAt', timezone: 'Europe/Paris' } },
            n: { $sum: 1 },
            ok: { $sum: { $cond: [{ $eq: ['$status', 'succeeded'] }, 1, 0] } },
          },
        },
      ],
      [
        {
          $group: {
            _id: { $ifNull: ['$missingKey', { $toLower: { $trim: { input: '$prompt' } } }] },
            n: { $sum: 1 },
            last: { $max: '$createdAt' },
          },
        },
      ],
      [
        { $sort: { computeMs: 1, createdAt: -1 } },
        {
          $group: {
            _id: null,
            values: { $push: '$computeMs' },
            firstPrompt: { $first: '$prompt' },
            lastAt: { $last: '$createdAt' },
          },
        },
      ],
      [{ $group: { _id: '$tags', n: { $sum: 1 } } }],
    ];
    for (const pipeline of pipelines) {
      const native = await jobs.aggregate([{ $match: { ownerId: { $ne: null } } }, ...pipeline]).toArray();
      const engine = await jobs
        .aggregate([{ $match: { ownerId: { $ne: null } } }, ...viaEngine(pipeline)])
        .toArray();
      expect(sorted(native), JSON.stringify(pipeline)).toEqual(sorted(engine));
    }
    const filters: object[] = [
      { ownerId: owner },
      { ownerId: owner, createdAt: { $gte: new Date(base - 3 * DAY) } },
      {
        createdAt: { $gt: new Date(base - 2 * DAY), $lte: new Date(base) },
        status: { $in: ['failed', null] },
      },
      { computeMs: { $gte: 100 } },
      { computeMs: { $lt: '5' } },
      { status: null },
      { status: { $ne: 'queued' }, 'params.modelServer': 'meshy' },
      { ownerId: owner, status: { $nin: ['queued', 'failed'] }, prompt: { $ne: '  Prompt 1  ' } },
      { status: { $nin: [null] } },
      { 'error.code': { $nin: ['TIMEOUT'] } },
      { tags: { $nin: ['b'] } },
      { 'error.code': 'TIMEOUT' },
      { tags: 'a' },
    ];
    for (const filter of filters) {
      const native = await jobs.find(filter).sort({ createdAt: -1, _id: 1 }).limit(7).toArray();
      const engine = await jobs
        .find({ $and: [filter, { $expr: true }] })
        .sort({ createdAt: -1, _id: 1 })
        .limit(7)
        .toArray();
      expect(native, JSON.stringify(filter)).toEqual(engine);
      expect(await jobs.countDocuments(filter), JSON.stringify(filter)).toBe(
        await jobs.countDocuments({ $and: [filter, { $expr: true }] }),
      );
      // Sorted on an indexed field with a small limit: answered by walking the index.
      for (const sort of [{ createdAt: -1 }, { createdAt: 1, _id: 1 }, { createdAt: -1, _id: -1 }] as Array<
        Record<string, 1 | -1>
      >) {
        const walked = await jobs.find(filter).sort(sort).skip(1).limit(4).toArray();
        const scanned = await jobs
          .find({ $and: [filter, { $expr: true }] })
          .sort(sort)
          .skip(1)
          .limit(4)
          .toArray();
        expect(walked, `${JSON.stringify(filter)} ${JSON.stringify(sort)}`).toEqual(scanned);
      }
    }
  });

  it('sort on one numeric field and filter a large share of an index as the general engine does', async () => {
    const durations = suite.db.collection('durations');
    await durations.createIndex({ ownerId: 1 });
    const values = [5, -0, 0, 2.5, -7, 5, 1e12, 3, 2.5, 0, -7, 42];
    await durations.insertMany(values.map((value, index) => ({ ownerId: index % 2 ? owner : null, value })));
    const withNaN = suite.db.collection('durations_nan');
    await withNaN.insertMany([...values, Number.NaN, 1].map((value) => ({ value })));
    for (const collection of [durations, withNaN]) {
      for (const direction of [1, -1] as const) {
        const pipeline = [
          { $sort: { value: direction } },
          { $group: { _id: null, values: { $push: '$value' }, n: { $sum: 1 } } },
        ];
        const native = await collection
          .aggregate([{ $match: { value: { $exists: true } } }, ...pipeline])
          .toArray();
        const engine = await collection
          .aggregate([{ $match: { value: { $exists: true } } }, ...viaEngine(pipeline)])
          .toArray();
        expect(native, `${collection.collectionName} ${direction}`).toEqual(engine);
      }
    }
    // Half the documents share the owner: the index keeps too many to be worth it, and a scan answers.
    const owned = await durations
      .aggregate([{ $match: { ownerId: owner } }, { $sort: { value: 1 } }])
      .toArray();
    const scanned = await durations
      .aggregate([{ $match: { ownerId: owner } }, ...viaEngine([{ $sort: { value: 1 } }])])
      .toArray();
    expect(owned.map(({ _id, value }) => ({ _id, value }))).toEqual(
      scanned.map(({ _id, value }) => ({ _id, value })),
    );
    expect(owned).toHaveLength(6);
  });
});
