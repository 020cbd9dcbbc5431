import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Decimal128, Double, Int32, Long, MongoClient, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';
import { EmbeddedMongoServer } from '../src/index.js';
import { RAW, typed } from './support/typed-values.js';

const suite = useDriverDatabase('numeric_types');

/** Documents of any shape: these tests use numbers of every BSON type as `_id`s and values. */
interface Loose extends Document {
  _id?: number | string | Int32 | Long | Double | Decimal128;
}

const collectionOf = (name: string) => suite.db.collection<Loose>(name);

/** Every numeric type and edge a document can hold, and how each must read back. */
const SAMPLES: Array<[string, unknown, string]> = [
  ['int', new Int32(7), 'int:7'],
  ['intNegative', new Int32(-2147483648), 'int:-2147483648'],
  ['long', Long.fromNumber(7), 'long:7'],
  ['longBig', Long.fromNumber(3000000000), 'long:3000000000'],
  ['longBeyond53', Long.fromString('9007199254740993'), 'long:9007199254740993'],
  ['double', new Double(7), 'double:7'],
  ['doubleBig', new Double(3000000000), 'double:3000000000'],
  ['doubleFraction', new Double(1.5), 'double:1.5'],
  ['negativeZero', new Double(-0), 'double:-0'],
  ['nan', new Double(Number.NaN), 'double:NaN'],
  ['infinity', new Double(Number.POSITIVE_INFINITY), 'double:Infinity'],
  ['minusInfinity', new Double(Number.NEGATIVE_INFINITY), 'double:-Infinity'],
  ['decimal', Decimal128.fromString('7.10'), 'decimal:7.10'],
];

function sampleDocument(id: number): Document {
  const doc: Document = { _id: id };
  for (const [field, value] of SAMPLES) doc[field] = value;
  doc.nested = { inner: [new Double(2), Long.fromNumber(3), new Int32(4)] };
  return doc;
}

function expectedSample(id: number): Document {
  const doc: Document = { _id: `int:${id}` };
  for (const [field, , shown] of SAMPLES) doc[field] = shown;
  doc.nested = { inner: ['double:2', 'long:3', 'int:4'] };
  return doc;
}

describe('BSON numeric types round-trip', () => {
  it('reads back every numeric type exactly as stored through find, getMore, aggregate and findAndModify', async () => {
    const items = collectionOf('round_trip');
    await items.insertMany([1, 2, 3, 4, 5].map(sampleDocument));

    const found = await items.find({}, { ...RAW, batchSize: 2, sort: { _id: 1 } }).toArray();
    expect(found).toHaveLength(5);
    found.forEach((doc, index) => expect(typed(doc)).toEqual(expectedSample(index + 1)));

    const aggregated = await items.aggregate([{ $sort: { _id: -1 } }, { $limit: 1 }], RAW).toArray();
    expect(typed(aggregated[0])).toEqual(expectedSample(5));

    const before = await items.findOneAndUpdate(
      { _id: 1 },
      { $set: { touched: new Double(1) } },
      { ...RAW, returnDocument: 'after' },
    );
    expect(typed(before)).toEqual({ ...expectedSample(1), touched: 'double:1' });
  });

  it('keeps the types across a durable restart, from the journal and from a compacted snapshot', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-numeric-'));
    const first = await EmbeddedMongoServer.start({ dataDir, compactAfterBytes: 4 * 1024 });
    let client = await MongoClient.connect(`${first.uri}numbers`);
    const filler = 'x'.repeat(512);
    await client.db().collection('kept').insertMany([1, 2].map(sampleDocument));
    // Enough writes to compact the journal into a snapshot, then one record after it.
    for (let index = 0; index < 20; index += 1)
      await client
        .db()
        .collection('padding')
        .insertOne({ filler, at: new Double(index) });
    await client.db().collection('kept').insertOne(sampleDocument(3));
    await client.close();
    await first.stop();

    const second = await EmbeddedMongoServer.start({ dataDir });
    client = await MongoClient.connect(`${second.uri}numbers`);
    try {
      const kept = await client.db().collection('kept').find({}, RAW).sort({ _id: 1 }).toArray();
      expect(kept.map(typed)).toEqual([1, 2, 3].map(expectedSample));
      const padding = await client.db().collection('padding').find({ at: 3 }, RAW).toArray();
      expect(padding.map((doc) => typed(doc.at))).toEqual(['double:3']);
    } finally {
      await client.close();
      await second.stop();
    }
  });
});

describe('$type tells numeric types apart', () => {
  it('matches by type name, alias, code and list in queries', async () => {
    const items = collectionOf('types');
    await items.insertMany([
      { _id: 'int', v: new Int32(1) },
      { _id: 'long', v: Long.fromNumber(1) },
      { _id: 'double', v: new Double(1) },
      { _id: 'fraction', v: 1.5 },
      { _id: 'decimal', v: Decimal128.fromString('1') },
      { _id: 'text', v: '1' },
      { _id: 'array', v: [new Int32(1), 'x'] },
    ]);
    const ids = async (filter: Document): Promise<string[]> =>
      (await items.find(filter).sort({ _id: 1 }).toArray()).map((doc) => String(doc._id));

    expect(await ids({ v: { $type: 'int' } })).toEqual(['array', 'int']);
    expect(await ids({ v: { $type: 'long' } })).toEqual(['long']);
    expect(await ids({ v: { $type: 'double' } })).toEqual(['double', 'fraction']);
    expect(await ids({ v: { $type: 'decimal' } })).toEqual(['decimal']);
    expect(await ids({ v: { $type: 'number' } })).toEqual([
      'array',
      'decimal',
      'double',
      'fraction',
      'int',
      'long',
    ]);
    expect(await ids({ v: { $type: 16 } })).toEqual(['array', 'int']);
    expect(await ids({ v: { $type: 18 } })).toEqual(['long']);
    expect(await ids({ v: { $type: 1 } })).toEqual(['double', 'fraction']);
    expect(await ids({ v: { $type: 19 } })).toEqual(['decimal']);
    expect(await ids({ v: { $type: ['long', 'decimal'] } })).toEqual(['decimal', 'long']);
    await expect(items.find({ v: { $type: 'integer' } }).toArray()).rejects.toMatchObject({ code: 2 });
  });

  it('names the type in aggregation ($type, $isNumber)', async () => {
    const rows = await suite.db
      .collection('types')
      .aggregate([
        { $match: { _id: { $ne: 'array' } } },
        { $project: { type: { $type: '$v' }, number: { $isNumber: '$v' }, missing: { $type: '$nope' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(rows).toEqual([
      { _id: 'decimal', type: 'decimal', number: true, missing: 'missing' },
      { _id: 'double', type: 'double', number: true, missing: 'missing' },
      { _id: 'fraction', type: 'double', number: true, missing: 'missing' },
      { _id: 'int', type: 'int', number: true, missing: 'missing' },
      { _id: 'long', type: 'long', number: true, missing: 'missing' },
      { _id: 'text', type: 'string', number: false, missing: 'missing' },
    ]);
  });
});

describe('update operators follow mongod type promotion', () => {
  it('$inc and $mul keep, widen and overflow types as mongod does', async () => {
    const items = collectionOf('updates');
    await items.insertOne({
      _id: 1,
      int: new Int32(5),
      intEdge: new Int32(2147483647),
      long: Long.fromNumber(5),
      longEdge: Long.MAX_VALUE,
      double: new Double(1.5),
      product: new Int32(65536),
      decimal: Decimal128.fromString('1.5'),
    });
    await items.updateOne(
      { _id: 1 },
      {
        $inc: {
          int: new Int32(2),
          intEdge: new Int32(1),
          long: new Int32(1),
          longEdge: new Int32(1),
          double: new Double(0.5),
          decimal: new Int32(1),
          missingLong: Long.fromNumber(4),
          missingDouble: new Double(4),
        },
        $mul: { product: new Int32(65536), missingProduct: new Double(3) },
      },
    );
    const doc = await items.findOne({ _id: 1 }, RAW);
    expect(typed(doc)).toEqual({
      _id: 'int:1',
      int: 'int:7',
      intEdge: 'long:2147483648',
      long: 'long:6',
      longEdge: 'double:9223372036854776000',
      double: 'double:2',
      product: 'long:4294967296',
      decimal: 'decimal:2.5',
      missingLong: 'long:4',
      missingDouble: 'double:4',
      missingProduct: 'double:0',
    });
  });

  it('$inc by a double turns an int into a double, and $min/$max keep the chosen value and its type', async () => {
    const items = collectionOf('updates_mixed');
    await items.insertOne({ _id: 1, n: new Int32(1), low: new Int32(5), high: Long.fromNumber(5) });
    await items.updateOne(
      { _id: 1 },
      { $inc: { n: new Double(1) }, $min: { low: new Double(3) }, $max: { high: new Int32(5) } },
    );
    expect(typed(await items.findOne({ _id: 1 }, RAW))).toEqual({
      _id: 'int:1',
      n: 'double:2',
      low: 'double:3',
      high: 'long:5',
    });
    const noop = await items.updateOne({ _id: 1 }, { $inc: { n: new Double(0) } });
    expect(noop.modifiedCount).toBe(0);
  });

  it('refuses $inc and $mul on a non-numeric field with TypeMismatch', async () => {
    const items = collectionOf('updates_refused');
    await items.insertOne({ _id: 1, name: 'ada' });
    await expect(items.updateOne({ _id: 1 }, { $inc: { name: 1 } })).rejects.toMatchObject({
      code: 14,
      message: expect.stringContaining("has the field 'name' of non-numeric type string"),
    });
    await expect(items.updateOne({ _id: 1 }, { $mul: { name: 2 } })).rejects.toMatchObject({ code: 14 });
    expect(await items.findOne({ _id: 1 })).toEqual({ _id: 1, name: 'ada' });
  });
});

describe('aggregation arithmetic and accumulators follow mongod type promotion', () => {
  it('types $add, $subtract, $multiply, $divide, $mod, $abs and the rounding operators', async () => {
    const items = collectionOf('arithmetic');
    await items.insertOne({
      _id: 1,
      i: new Int32(7),
      max: new Int32(2147483647),
      min: new Int32(-2147483648),
      l: Long.fromNumber(3),
      d: new Double(2),
      half: new Double(2.5),
      dec: Decimal128.fromString('1.25'),
    });
    const [row] = await items
      .aggregate(
        [
          {
            $project: {
              _id: 0,
              intPlusInt: { $add: ['$i', '$i'] },
              intOverflow: { $add: ['$max', 1] },
              intPlusLong: { $add: ['$i', '$l'] },
              intPlusDouble: { $add: ['$i', '$d'] },
              intPlusDecimal: { $add: ['$i', '$dec'] },
              subtract: { $subtract: ['$i', '$l'] },
              multiplyOverflow: { $multiply: ['$max', '$max'] },
              divide: { $divide: ['$i', 7] },
              divideDecimal: { $divide: ['$dec', 5] },
              mod: { $mod: ['$i', '$l'] },
              modDouble: { $mod: ['$half', 2] },
              absMin: { $abs: '$min' },
              roundHalfEven: { $round: ['$half', 0] },
              roundInt: { $round: [1234, -2] },
              ceil: { $ceil: '$half' },
              floorLong: { $floor: '$l' },
              trunc: { $trunc: ['$dec', 1] },
            },
          },
        ],
        RAW,
      )
      .toArray();
    expect(typed(row)).toEqual({
      intPlusInt: 'int:14',
      intOverflow: 'long:2147483648',
      intPlusLong: 'long:10',
      intPlusDouble: 'double:9',
      intPlusDecimal: 'decimal:8.25',
      subtract: 'long:4',
      multiplyOverflow: 'long:4611686014132420609',
      divide: 'double:1',
      divideDecimal: 'decimal:0.25',
      mod: 'long:1',
      modDouble: 'double:0.5',
      absMin: 'long:2147483648',
      roundHalfEven: 'double:2',
      roundInt: 'int:1200',
      ceil: 'double:3',
      floorLong: 'long:3',
      trunc: 'decimal:1.2',
    });
    await expect(
      items.aggregate([{ $project: { x: { $divide: ['$i', 0] } } }]).toArray(),
    ).rejects.toMatchObject({
      code: 16608,
    });
    await expect(
      items.aggregate([{ $project: { x: { $add: ['$i', 'text'] } } }]).toArray(),
    ).rejects.toMatchObject({
      code: 16554,
    });
  });

  it('converts with $toInt, $toLong, $toDouble, $toDecimal and $convert, refusing overflow', async () => {
    const items = collectionOf('conversions');
    await items.insertOne({
      _id: 1,
      d: new Double(42.9),
      big: new Double(1e10),
      text: '12',
      l: Long.fromNumber(5),
    });
    const [row] = await items
      .aggregate(
        [
          {
            $project: {
              _id: 0,
              toInt: { $toInt: '$d' },
              toLong: { $toLong: '$text' },
              toDouble: { $toDouble: '$l' },
              toDecimal: { $toDecimal: '$l' },
              convert: { $convert: { input: '$text', to: 'double' } },
              convertFailed: { $convert: { input: '$big', to: 'int', onError: 'too big' } },
              convertNull: { $convert: { input: '$nope', to: 'long', onNull: Long.fromNumber(-1) } },
            },
          },
        ],
        RAW,
      )
      .toArray();
    expect(typed(row)).toEqual({
      toInt: 'int:42',
      toLong: 'long:12',
      toDouble: 'double:5',
      toDecimal: 'decimal:5',
      convert: 'double:12',
      convertFailed: 'too big',
      convertNull: 'long:-1',
    });
    await expect(items.aggregate([{ $project: { x: { $toInt: '$big' } } }]).toArray()).rejects.toMatchObject({
      code: 241,
      codeName: 'ConversionFailure',
    });
  });

  it('types the native $group of plain ints and doubles as mongod does', async () => {
    // No int64 or decimal in the collection: the $group runs natively (fast-stages) on plain numbers.
    const items = collectionOf('native_sums');
    await items.insertMany([
      { g: 'overflow', v: 2147483647 },
      { g: 'overflow', v: 1 },
      { g: 'halves', v: 1.5 },
      { g: 'halves', v: 1.5 },
      { g: 'ints', v: 2 },
      { g: 'ints', v: 4 },
    ]);
    const rows = await items
      .aggregate(
        [{ $group: { _id: '$g', sum: { $sum: '$v' }, avg: { $avg: '$v' } } }, { $sort: { _id: 1 } }],
        RAW,
      )
      .toArray();
    expect(rows.map(typed)).toEqual([
      { _id: 'halves', sum: 'double:3', avg: 'double:1.5' },
      { _id: 'ints', sum: 'int:6', avg: 'double:3' },
      { _id: 'overflow', sum: 'long:2147483648', avg: 'double:1073741824' },
    ]);
  });

  it('treats zero of every numeric type as false in $cond, natively and in the general engine', async () => {
    const items = collectionOf('truthiness');
    await items.insertMany([
      { _id: 1, v: Long.fromNumber(0) },
      { _id: 2, v: new Double(0) },
      { _id: 3, v: Decimal128.fromString('0') },
      { _id: 4, v: Long.fromNumber(2) },
    ]);
    const projected = await items
      .aggregate([{ $project: { truth: { $cond: ['$v', 'yes', 'no'] } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(projected.map((doc) => doc.truth)).toEqual(['no', 'no', 'no', 'yes']);
    const grouped = await items
      .aggregate([{ $group: { _id: { $cond: ['$v', 'yes', 'no'] }, n: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(grouped).toEqual([
      { _id: 'no', n: 3 },
      { _id: 'yes', n: 1 },
    ]);
  });

  it('types $sum (int, widened to long, double) and $avg (double, or decimal)', async () => {
    const items = collectionOf('accumulators');
    await items.insertMany([
      { g: 'ints', v: new Int32(1) },
      { g: 'ints', v: new Int32(2) },
      { g: 'overflow', v: new Int32(2147483647) },
      { g: 'overflow', v: new Int32(1) },
      { g: 'longs', v: Long.fromNumber(1) },
      { g: 'longs', v: new Int32(1) },
      { g: 'doubles', v: new Double(1.5) },
      { g: 'doubles', v: new Double(1.5) },
      { g: 'decimals', v: Decimal128.fromString('0.1') },
      { g: 'decimals', v: Decimal128.fromString('0.2') },
    ]);
    // The plain pipeline runs natively; with a $match first it runs in the general engine: both must agree.
    for (const pipeline of [
      [{ $group: { _id: '$g', sum: { $sum: '$v' }, avg: { $avg: '$v' }, count: { $sum: 1 } } }],
      [
        { $match: { v: { $exists: true } } },
        { $group: { _id: '$g', sum: { $sum: '$v' }, avg: { $avg: '$v' }, count: { $sum: 1 } } },
      ],
    ]) {
      const rows = await items.aggregate([...pipeline, { $sort: { _id: 1 } }], RAW).toArray();
      expect(rows.map(typed)).toEqual([
        { _id: 'decimals', sum: 'decimal:0.3', avg: 'decimal:0.15', count: 'int:2' },
        { _id: 'doubles', sum: 'double:3', avg: 'double:1.5', count: 'int:2' },
        { _id: 'ints', sum: 'int:3', avg: 'double:1.5', count: 'int:2' },
        { _id: 'longs', sum: 'long:2', avg: 'double:1', count: 'int:2' },
        { _id: 'overflow', sum: 'long:2147483648', avg: 'double:1073741824', count: 'int:2' },
      ]);
    }
  });
});

describe('operators that answer doubles read numbers of every type', () => {
  it('hands longs and integral doubles to $sqrt, $ln, trigonometry, $pow and $stdDevPop as numbers', async () => {
    const items = collectionOf('double_results');
    await items.insertMany([
      { _id: 1, long: Long.fromNumber(16), double: new Double(4), int: new Int32(2) },
      { _id: 2, long: Long.fromNumber(4), double: new Double(2), int: new Int32(3) },
    ]);
    const [first] = await items
      .aggregate(
        [
          { $match: { _id: 1 } },
          {
            $project: {
              _id: 0,
              sqrtLong: { $sqrt: '$long' },
              sqrtDouble: { $sqrt: '$double' },
              lnDouble: { $ln: '$double' },
              cosZero: { $cos: { $subtract: ['$double', '$double'] } },
              powInts: { $pow: ['$int', 3] },
              powLong: { $pow: ['$long', 2] },
              powDouble: { $pow: ['$double', 2] },
              powNegative: { $pow: ['$int', -1] },
            },
          },
        ],
        RAW,
      )
      .toArray();
    expect(typed(first)).toEqual({
      sqrtLong: 'double:4',
      sqrtDouble: 'double:2',
      lnDouble: `double:${Math.log(4)}`,
      cosZero: 'double:1',
      powInts: 'int:8',
      powLong: 'long:256',
      powDouble: 'double:16',
      powNegative: 'double:0.5',
    });
    const [spread] = await items
      .aggregate([{ $group: { _id: null, spread: { $stdDevPop: '$double' } } }], RAW)
      .toArray();
    expect(typed(spread)).toEqual({ _id: null, spread: 'double:1' });
    await expect(
      items
        .aggregate([{ $project: { root: { $sqrt: { $literal: Decimal128.fromString('2') } } } }])
        .toArray(),
    ).rejects.toMatchObject({ code: 115 });
  });

  it('takes whole numbers of any type as positions: $arrayElemAt, $slice, $range, $substrCP', async () => {
    const items = collectionOf('positions');
    await items.insertOne({ _id: 1, values: [10, 20, 30, 40], n: new Int32(4), word: 'embedded' });
    const [row] = await items
      .aggregate(
        [
          {
            $project: {
              _id: 0,
              // $ceil of a double is a double (3.0), as a percentile's rank is.
              third: { $arrayElemAt: ['$values', { $subtract: [{ $ceil: { $multiply: ['$n', 0.5] } }, 0] }] },
              firstTwo: { $slice: ['$values', Long.fromNumber(2)] },
              range: { $range: [0, new Double(3)] },
              prefix: { $substrCP: ['$word', 0, new Double(3)] },
            },
          },
        ],
        RAW,
      )
      .toArray();
    expect(typed(row)).toEqual({
      third: 'int:30',
      firstTwo: ['int:10', 'int:20'],
      range: ['int:0', 'int:1', 'int:2'],
      prefix: 'emb',
    });
  });

  it('takes index directions and expireAfterSeconds of any numeric type', async () => {
    const items = collectionOf('index_numbers');
    // Sent as the command itself: the driver's types only take plain numbers for directions.
    await suite.db.command({
      createIndexes: 'index_numbers',
      indexes: [
        { key: { at: Long.fromNumber(1) }, name: 'at_1', expireAfterSeconds: Long.fromNumber(3600) },
        { key: { rank: new Double(-1) }, name: 'rank_-1' },
      ],
    });
    await items.insertMany([
      { _id: 1, rank: 1 },
      { _id: 2, rank: 3 },
      { _id: 3, rank: 2 },
    ]);
    const indexes = await items.listIndexes().toArray();
    expect(indexes.find((index) => index.name === 'at_1')?.expireAfterSeconds).toBe(3600);
    expect(
      (
        await items
          .find({ rank: { $gte: 1 } })
          .sort({ rank: -1 })
          .limit(2)
          .toArray()
      ).map((doc) => doc._id),
    ).toEqual([2, 3]);
  });
});

describe('numbers of different types compare by value', () => {
  it('matches, sorts, groups and distincts int, long, double and decimal by value', async () => {
    const items = collectionOf('cross_type');
    await items.insertMany([
      { _id: 1, a: new Int32(7) },
      { _id: 2, a: Long.fromNumber(7) },
      { _id: 3, a: new Double(7) },
      { _id: 4, a: Decimal128.fromString('7.0') },
      { _id: 5, a: new Double(6.5) },
      { _id: 6, a: Long.fromNumber(8) },
    ]);
    const ids = async (filter: Document): Promise<number[]> =>
      (await items.find(filter).sort({ _id: 1 }).toArray()).map((doc) => Number(doc._id));
    expect(await ids({ a: 7 })).toEqual([1, 2, 3, 4]);
    expect(await ids({ a: Long.fromNumber(7) })).toEqual([1, 2, 3, 4]);
    expect(await ids({ a: { $in: [new Double(8), 'x'] } })).toEqual([6]);
    expect(await ids({ a: { $gt: new Double(6.9), $lt: Long.fromNumber(8) } })).toEqual([1, 2, 3, 4]);
    expect(await ids({ $expr: { $eq: ['$a', 8] } })).toEqual([6]);

    const sorted = await items.find({}, { sort: { a: -1, _id: 1 } }).toArray();
    expect(sorted.map((doc) => doc._id)).toEqual([6, 1, 2, 3, 4, 5]);

    const groups = await items
      .aggregate([{ $group: { _id: '$a', n: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(groups.map((group) => [Number(group._id), group.n])).toEqual([
      [6.5, 1],
      [7, 4],
      [8, 1],
    ]);
    expect((await items.distinct('a')).map(Number)).toEqual([6.5, 7, 8]);
  });

  it('refuses a long beside an equal int in a unique index and finds _id by any numeric type', async () => {
    const items = collectionOf('unique_numbers');
    await items.createIndex({ code: 1 }, { unique: true });
    await items.insertOne({ _id: new Int32(5), code: new Int32(7) });
    await expect(items.insertOne({ code: Long.fromNumber(7) })).rejects.toMatchObject({ code: 11000 });
    await expect(items.insertOne({ code: new Double(7) })).rejects.toMatchObject({ code: 11000 });
    await expect(items.insertOne({ _id: Long.fromNumber(5), code: 1 })).rejects.toMatchObject({
      code: 11000,
    });
    expect(await items.findOne({ _id: Long.fromNumber(5) })).toMatchObject({ code: 7 });
    expect(await items.findOne({ _id: new Double(5) })).toMatchObject({ code: 7 });
  });

  it('tests $mod on truncated integers of every numeric type', async () => {
    const items = collectionOf('modulo');
    await items.insertMany([
      { _id: 'int', v: new Int32(5) },
      { _id: 'long', v: Long.fromNumber(5) },
      { _id: 'fraction', v: new Double(5.5) },
      { _id: 'negative', v: new Int32(-5) },
      { _id: 'text', v: '5' },
    ]);
    const ids = async (filter: Document): Promise<string[]> =>
      (await items.find(filter).sort({ _id: 1 }).toArray()).map((doc) => String(doc._id));
    expect(await ids({ v: { $mod: [2, 1] } })).toEqual(['fraction', 'int', 'long']);
    expect(await ids({ v: { $mod: [Long.fromNumber(2), new Double(-1.9)] } })).toEqual(['negative']);
    await expect(items.find({ v: { $mod: [0, 1] } }).toArray()).rejects.toMatchObject({ code: 2 });
  });

  it('accepts command arguments of any numeric type (a long limit)', async () => {
    const items = collectionOf('arguments');
    await items.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const reply = await suite.db.command({
      find: 'arguments',
      limit: Long.fromNumber(2),
      skip: new Double(1),
    });
    expect((reply.cursor as Document).firstBatch).toEqual([{ _id: 2 }, { _id: 3 }]);
  });

  it('compares longs beyond 2^53 exactly', async () => {
    const items = collectionOf('big_longs');
    const base = 2n ** 53n;
    await items.insertMany([
      { _id: 'below', v: Long.fromBigInt(base) },
      { _id: 'above', v: Long.fromBigInt(base + 1n) },
      { _id: 'double', v: new Double(2 ** 53) },
    ]);
    const ids = async (filter: Document): Promise<string[]> =>
      (await items.find(filter).sort({ _id: 1 }).toArray()).map((doc) => String(doc._id));
    expect(await ids({ v: Long.fromBigInt(base + 1n) })).toEqual(['above']);
    expect(await ids({ v: Long.fromBigInt(base) })).toEqual(['below', 'double']);
    expect(await ids({ v: { $gt: new Double(2 ** 53) } })).toEqual(['above']);
    const sorted = await items.find({}, RAW).sort({ v: -1, _id: 1 }).toArray();
    expect(sorted.map((doc) => doc._id)).toEqual(['above', 'below', 'double']);
    const [sum] = await items
      .aggregate(
        [{ $match: { _id: { $ne: 'double' } } }, { $group: { _id: null, total: { $sum: '$v' } } }],
        RAW,
      )
      .toArray();
    expect(typed(sum?.total)).toBe(`long:${(2n * base + 1n).toString()}`);
  });
});

describe('decimal arithmetic keeps the IEEE 754-2008 cohort, as mongod does', () => {
  it('keeps trailing zeros in $add, $subtract, $multiply, $divide, $abs, $round and $trunc', async () => {
    const items = collectionOf('decimal_cohort');
    await items.insertOne({
      _id: 1,
      price: Decimal128.fromString('1.50'),
      tenth: Decimal128.fromString('0.10'),
      big: Decimal128.fromString('1234.5'),
      negative: Decimal128.fromString('-2.500'),
      whole: Decimal128.fromString('2'),
    });
    const [row] = await items
      .aggregate(
        [
          {
            $project: {
              _id: 0,
              add: { $add: ['$price', 1] },
              addLong: { $add: ['$price', Long.fromNumber(2)] },
              subtract: { $subtract: ['$price', '$tenth'] },
              subtractToZero: { $subtract: ['$price', '$price'] },
              multiply: { $multiply: ['$price', 2] },
              multiplyDecimals: { $multiply: ['$price', '$tenth'] },
              divideExact: { $divide: ['$price', 2] },
              divideByDecimal: { $divide: ['$whole', Decimal128.fromString('0.5')] },
              divideInexact: { $divide: ['$whole', 3] },
              divideHalfEven: { $divide: [Decimal128.fromString('2'), Decimal128.fromString('3')] },
              abs: { $abs: '$negative' },
              round: { $round: ['$price', 1] },
              roundUp: { $round: ['$whole', 2] },
              roundNegativePlace: { $round: ['$big', -2] },
              trunc: { $trunc: ['$negative', 1] },
              ceil: { $ceil: '$price' },
            },
          },
        ],
        RAW,
      )
      .toArray();
    expect(typed(row)).toEqual({
      add: 'decimal:2.50',
      addLong: 'decimal:3.50',
      subtract: 'decimal:1.40',
      subtractToZero: 'decimal:0.00',
      multiply: 'decimal:3.00',
      multiplyDecimals: 'decimal:0.1500',
      divideExact: 'decimal:0.75',
      divideByDecimal: 'decimal:4',
      divideInexact: 'decimal:0.6666666666666666666666666666666667',
      divideHalfEven: 'decimal:0.6666666666666666666666666666666667',
      abs: 'decimal:2.500',
      round: 'decimal:1.5',
      roundUp: 'decimal:2.00',
      roundNegativePlace: 'decimal:1.2E+3',
      trunc: 'decimal:-2.5',
      ceil: 'decimal:2',
    });
  });

  it('keeps the cohort in $sum, $avg, $inc and $mul', async () => {
    const items = collectionOf('decimal_cohort_accumulators');
    await items.insertMany([
      { _id: 1, v: Decimal128.fromString('0.10') },
      { _id: 2, v: Decimal128.fromString('0.20') },
    ]);
    for (const pipeline of [
      [{ $group: { _id: null, sum: { $sum: '$v' }, avg: { $avg: '$v' } } }],
      [
        { $match: { v: { $exists: true } } },
        { $group: { _id: null, sum: { $sum: '$v' }, avg: { $avg: '$v' } } },
      ],
    ]) {
      const [row] = await items.aggregate(pipeline, RAW).toArray();
      expect(typed(row)).toEqual({ _id: null, sum: 'decimal:0.30', avg: 'decimal:0.15' });
    }
    await items.updateOne({ _id: 1 }, { $inc: { v: new Int32(1) } });
    await items.updateOne({ _id: 2 }, { $mul: { v: Decimal128.fromString('1.0') } });
    const docs = await items.find({}, RAW).sort({ _id: 1 }).toArray();
    expect(docs.map((doc) => typed(doc.v))).toEqual(['decimal:1.10', 'decimal:0.200']);
  });
});

describe('decimals compare with other numbers by exact value', () => {
  // Two decimals that round to the same double, and the double 0.1 (0.1000000000000000055511151231257827…).
  const ONE_TENTH = Decimal128.fromString('0.1');
  const NEAR_TENTH = Decimal128.fromString('0.1000000000000000000000000000000001');

  it('tells decimal 0.1 from double 0.1 in matches, $in, $expr, sort, group and distinct', async () => {
    const items = collectionOf('exact_decimals');
    await items.insertMany([
      { _id: 'double', v: new Double(0.1) },
      { _id: 'decimal', v: ONE_TENTH },
      { _id: 'near', v: NEAR_TENTH },
      { _id: 'one', v: Decimal128.fromString('1.0') },
      { _id: 'int', v: new Int32(1) },
    ]);
    const ids = async (filter: Document): Promise<string[]> =>
      (await items.find(filter).sort({ _id: 1 }).toArray()).map((doc) => String(doc._id));
    expect(await ids({ v: ONE_TENTH })).toEqual(['decimal']);
    expect(await ids({ v: new Double(0.1) })).toEqual(['double']);
    expect(await ids({ v: NEAR_TENTH })).toEqual(['near']);
    expect(await ids({ v: new Int32(1) })).toEqual(['int', 'one']);
    expect(await ids({ v: new Double(1) })).toEqual(['int', 'one']);
    expect(await ids({ v: { $in: [ONE_TENTH, 'x'] } })).toEqual(['decimal']);
    expect(await ids({ v: { $gt: ONE_TENTH, $lt: 1 } })).toEqual(['double', 'near']);
    expect(await ids({ $expr: { $eq: ['$v', 0.1] } })).toEqual(['double']);

    const sorted = await items.find({}).sort({ v: 1, _id: 1 }).toArray();
    expect(sorted.map((doc) => doc._id)).toEqual(['decimal', 'near', 'double', 'int', 'one']);

    const groups = await items
      .aggregate([{ $group: { _id: '$v', n: { $sum: 1 } } }, { $sort: { _id: 1 } }], RAW)
      .toArray();
    expect(groups.map((group) => [typed(group._id), typed(group.n)])).toEqual([
      ['decimal:0.1', 'int:1'],
      ['decimal:0.1000000000000000000000000000000001', 'int:1'],
      ['double:0.1', 'int:1'],
      [expect.stringMatching(/^(int:1|decimal:1\.0)$/), 'int:2'],
    ]);
    const general = await items
      .aggregate([{ $group: { _id: { k: '$v' }, n: { $sum: 1 } } }, { $sort: { '_id.k': 1 } }])
      .toArray();
    expect(general.map((group) => group.n)).toEqual([1, 1, 1, 2]);
    expect((await items.distinct('v')).length).toBe(4);
  });

  it('keeps two decimals that round to one double apart in a unique index and in _id lookups', async () => {
    const items = collectionOf('exact_decimal_keys');
    await items.createIndex({ code: 1 }, { unique: true });
    await items.insertOne({ _id: ONE_TENTH, code: ONE_TENTH });
    await items.insertOne({ _id: NEAR_TENTH, code: NEAR_TENTH });
    await items.insertOne({ _id: new Double(0.1), code: new Double(0.1) });
    await expect(items.insertOne({ code: Decimal128.fromString('0.10') })).rejects.toMatchObject({
      code: 11000,
    });
    await items.insertOne({ _id: 'one', code: Decimal128.fromString('1.00') });
    await expect(items.insertOne({ code: new Int32(1) })).rejects.toMatchObject({ code: 11000 });
    await expect(items.insertOne({ _id: Decimal128.fromString('0.100'), code: 5 })).rejects.toMatchObject({
      code: 11000,
    });

    const codeOf = async (id: Loose['_id']): Promise<unknown> =>
      typed((await items.findOne({ _id: id }, RAW))?.code);
    expect(await codeOf(ONE_TENTH)).toBe('decimal:0.1');
    expect(await codeOf(NEAR_TENTH)).toBe('decimal:0.1000000000000000000000000000000001');
    expect(await codeOf(new Double(0.1))).toBe('double:0.1');
    expect(await items.countDocuments({ code: { $in: [NEAR_TENTH, new Double(0.1)] } })).toBe(2);
  });
});

describe('the decoder that picks the type-preserving path', () => {
  it('closes a connection whose body holds a string of negative length instead of scanning backwards', async () => {
    const server = await EmbeddedMongoServer.start({});
    try {
      // {a: <string of length -8>}: the raw-BSON scan must give up on it (the full decoder refuses it).
      const body = Buffer.from([16, 0, 0, 0, 0x02, 0x61, 0, 0xf8, 0xff, 0xff, 0xff, 0x78, 0, 0, 0, 0]);
      const message = Buffer.concat([Buffer.alloc(16), Buffer.from([0, 0, 0, 0, 0]), body]);
      message.writeInt32LE(message.length, 0);
      message.writeInt32LE(1, 4);
      message.writeInt32LE(2013, 12);
      const closed = await new Promise<boolean>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () => socket.write(message));
        socket.on('error', () => socket.destroy());
        socket.on('close', () => resolve(true));
      });
      expect(closed).toBe(true);
      const client = await MongoClient.connect(`${server.uri}decoder`);
      try {
        const items = client.db().collection('after');
        await items.insertOne({ v: new Double(3) });
        const [doc] = await items.find({}, RAW).toArray();
        expect(typed(doc?.v)).toBe('double:3');
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
    }
  });
});
