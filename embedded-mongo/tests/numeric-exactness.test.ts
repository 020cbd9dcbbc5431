import { Decimal128, Double, Int32, Long, type Document, type UpdateFilter } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';
import { RAW, typed } from './support/typed-values.js';

const suite = useDriverDatabase('numeric_exactness');

/** Documents of any shape, with numeric `_id`s. */
interface Loose extends Document {
  _id?: number;
}

const collectionOf = (name: string) => suite.db.collection<Loose>(name);

/** A $setWindowFields stage sorted by `t`, then the outputs alone, in `_id` order. */
function windowPipeline(output: Document, sortBy: Document = { t: 1 }): Document[] {
  return [
    { $setWindowFields: { sortBy, output } },
    { $project: Object.fromEntries(Object.keys(output).map((field) => [field, 1])) },
    { $sort: { _id: 1 } },
  ];
}

/** The window outputs of each document, typed. */
async function windowed(name: string, output: Document, sortBy?: Document): Promise<unknown[]> {
  const rows = await collectionOf(name).aggregate(windowPipeline(output, sortBy), RAW).toArray();
  return rows.map((row) => {
    const { _id: _unused, ...rest } = row;
    return typed(rest);
  });
}

/** The same pipeline read with promoted values, so that a refusal's `code` is a plain number. */
const windowRun = (name: string, output: Document) =>
  collectionOf(name).aggregate(windowPipeline(output)).toArray();

describe('window functions read numbers of every BSON type', () => {
  it('$derivative reads longs, integral doubles and decimals and answers a double or a decimal', async () => {
    await collectionOf('derivative').insertMany([
      {
        _id: 1,
        t: Long.fromNumber(0),
        long: Long.fromNumber(10),
        double: new Double(2),
        dec: Decimal128.fromString('1.50'),
      },
      {
        _id: 2,
        t: Long.fromNumber(2),
        long: Long.fromNumber(30),
        double: new Double(8),
        dec: Decimal128.fromString('2.50'),
      },
    ]);
    const window = { documents: ['unbounded', 'current'] };
    expect(
      await windowed('derivative', {
        long: { $derivative: { input: '$long' }, window },
        double: { $derivative: { input: '$double' }, window },
        dec: { $derivative: { input: '$dec' }, window },
      }),
    ).toEqual([
      { long: null, double: null, dec: null },
      { long: 'double:10', double: 'double:3', dec: 'decimal:0.50' },
    ]);
  });

  it('$derivative with a unit scales the slope per unit of dates', async () => {
    await collectionOf('derivative_unit').insertMany([
      { _id: 1, t: new Date('2026-01-01T00:00:00Z'), v: Long.fromNumber(100) },
      { _id: 2, t: new Date('2026-01-01T00:00:02Z'), v: Long.fromNumber(160) },
    ]);
    expect(
      await windowed('derivative_unit', {
        perSecond: { $derivative: { input: '$v', unit: 'second' }, window: { documents: [-1, 0] } },
      }),
    ).toEqual([{ perSecond: null }, { perSecond: 'double:30' }]);
  });

  it('$integral adds trapezoids of longs, integral doubles and decimals', async () => {
    await collectionOf('integral').insertMany([
      {
        _id: 1,
        t: new Int32(1),
        long: Long.fromNumber(2),
        double: new Double(2),
        dec: Decimal128.fromString('1.5'),
      },
      {
        _id: 2,
        t: new Int32(2),
        long: Long.fromNumber(4),
        double: new Double(4),
        dec: Decimal128.fromString('2.5'),
      },
      {
        _id: 3,
        t: new Int32(3),
        long: Long.fromNumber(8),
        double: new Double(8),
        dec: Decimal128.fromString('4.0'),
      },
    ]);
    const window = { documents: ['unbounded', 'current'] };
    expect(
      await windowed('integral', {
        long: { $integral: { input: '$long' }, window },
        double: { $integral: { input: '$double' }, window },
        dec: { $integral: { input: '$dec' }, window },
      }),
    ).toEqual([
      // One point: mongod's empty sum, the int 0.
      { long: 'int:0', double: 'int:0', dec: 'int:0' },
      { long: 'double:3', double: 'double:3', dec: 'decimal:2' },
      { long: 'double:9', double: 'double:9', dec: 'decimal:5.25' },
    ]);
  });

  it('$integral refuses a non-numeric input with mongod 5423900', async () => {
    await collectionOf('integral_text').insertMany([
      { _id: 1, t: 1, v: 'one' },
      { _id: 2, t: 2, v: 2 },
    ]);
    await expect(
      windowRun('integral_text', { area: { $integral: { input: '$v' }, window: { documents: [-1, 0] } } }),
    ).rejects.toMatchObject({ code: 5423900 });
  });

  it('refuses a $derivative, $integral or $expMovingAvg argument that is not an object (FailedToParse)', async () => {
    await collectionOf('window_arguments').insertOne({ _id: 1, t: 1, v: 1 });
    for (const output of [
      { slope: { $derivative: '$v', window: { documents: [-1, 0] } } },
      { area: { $integral: null, window: { documents: [-1, 0] } } },
      { average: { $expMovingAvg: 5 } },
    ])
      await expect(windowRun('window_arguments', output)).rejects.toMatchObject({ code: 9 });
  });

  it('$expMovingAvg reads longs and integral doubles, computing in decimal as mongod does', async () => {
    await collectionOf('moving_average').insertMany([
      { _id: 1, t: 1, long: Long.fromNumber(2), double: new Double(2), dec: Decimal128.fromString('2.0') },
      { _id: 2, t: 2, long: Long.fromNumber(4), double: new Double(4), dec: Decimal128.fromString('4.0') },
      { _id: 3, t: 3, long: 'skipped', double: new Double(8), dec: Decimal128.fromString('8.0') },
    ]);
    expect(
      await windowed('moving_average', {
        long: { $expMovingAvg: { input: '$long', N: Long.fromNumber(2) } },
        double: { $expMovingAvg: { input: '$double', alpha: 0.5 } },
        dec: { $expMovingAvg: { input: '$dec', N: 2 } },
      }),
    ).toEqual([
      { long: 'double:2', double: 'double:2', dec: 'decimal:2.0' },
      // 4 × 2/3 + 2 × 1/3 in 34-digit decimal, then the nearest double.
      {
        long: 'double:3.3333333333333335',
        double: 'double:3',
        dec: 'decimal:3.333333333333333333333333333333334',
      },
      {
        long: 'double:3.3333333333333335',
        double: 'double:5.5',
        dec: 'decimal:6.444444444444444444444444444444445',
      },
    ]);
  });

  it('$covariancePop and $covarianceSamp read longs, integral doubles and decimals', async () => {
    await collectionOf('covariance').insertMany([
      { _id: 1, t: Long.fromNumber(1), v: new Double(2), dec: Decimal128.fromString('1') },
      { _id: 2, t: Long.fromNumber(2), v: new Double(4), dec: Decimal128.fromString('2') },
      { _id: 3, t: Long.fromNumber(3), v: new Double(6), dec: Decimal128.fromString('3') },
    ]);
    const window = { documents: ['unbounded', 'current'] };
    expect(
      await windowed('covariance', {
        pop: { $covariancePop: ['$t', '$v'], window },
        samp: { $covarianceSamp: ['$t', '$v'], window },
        decimal: { $covarianceSamp: ['$t', '$dec'], window },
      }),
    ).toEqual([
      { pop: 'double:0', samp: null, decimal: null },
      { pop: 'double:0.5', samp: 'double:1', decimal: expect.stringMatching(/^decimal:0\.50*$/) },
      {
        pop: 'double:1.3333333333333333',
        samp: 'double:2',
        decimal: expect.stringMatching(/^decimal:1\.0*$/),
      },
    ]);
  });

  it('still refuses a $function sent by a client inside the window stage', async () => {
    await collectionOf('window_function').insertOne({ _id: 1, t: 1 });
    await expect(
      windowRun('window_function', {
        x: { $sum: { $function: { body: 'function() { return 1; }', args: [], lang: 'js' } } },
      }),
    ).rejects.toMatchObject({ code: 2 });
  });
});

/** A `$bit` update of any shape: the driver's types allow one operation of a valid operand only. */
const bit = (spec: Document): UpdateFilter<Loose> => ({ $bit: spec }) as UpdateFilter<Loose>;

describe('window bounds of every BSON numeric type', () => {
  it('bounds a range window around long and decimal sortBy values by exact value', async () => {
    const items = collectionOf('range_windows');
    await items.insertMany([
      { _id: 1, long: Long.fromNumber(1), dec: Decimal128.fromString('1.0'), v: 1 },
      { _id: 2, long: Long.fromNumber(2), dec: Decimal128.fromString('1.1'), v: 2 },
      { _id: 3, long: Long.fromNumber(3), dec: Decimal128.fromString('1.2'), v: 4 },
      { _id: 4, long: Long.fromNumber(5), dec: Decimal128.fromString('1.5'), v: 8 },
    ]);
    expect(
      await windowed('range_windows', { near: { $sum: '$v', window: { range: [-2, 0] } } }, { long: 1 }),
    ).toEqual([{ near: 'int:1' }, { near: 'int:3' }, { near: 'int:7' }, { near: 'int:12' }]);
    // 1.1 + -0.1 is exactly 1.0 in decimal arithmetic (in doubles it is 1.0000000000000000888).
    const tenth = Decimal128.fromString('-0.1');
    expect(
      await windowed('range_windows', { near: { $sum: '$v', window: { range: [tenth, 0] } } }, { dec: 1 }),
    ).toEqual([{ near: 'int:1' }, { near: 'int:3' }, { near: 'int:6' }, { near: 'int:8' }]);
  });

  it('takes document offsets of any numeric type', async () => {
    const items = collectionOf('document_windows');
    await items.insertMany([1, 2, 3].map((n) => ({ _id: n, t: n, v: n * 10 })));
    expect(
      await windowed('document_windows', {
        pair: { $sum: '$v', window: { documents: [Long.fromNumber(-1), new Double(0)] } },
      }),
    ).toEqual([{ pair: 'int:10' }, { pair: 'int:30' }, { pair: 'int:50' }]);
  });

  it('refuses a range window over a non-numeric sortBy value with mongod 5429414', async () => {
    await collectionOf('range_text').insertMany([
      { _id: 1, t: 'a', v: 1 },
      { _id: 2, t: 'b', v: 2 },
    ]);
    await expect(
      windowRun('range_text', { near: { $sum: '$v', window: { range: [-1, 0] } } }),
    ).rejects.toMatchObject({ code: 5429414 });
  });
});

describe('$bit works on ints and longs as mongod does', () => {
  it('applies and/or/xor to a long, widens an int by a long operand and starts a missing field at int 0', async () => {
    const items = collectionOf('bit_types');
    await items.insertOne({ _id: 1, long: Long.fromString('12345678901234'), int: new Int32(6) });
    await items.updateOne({ _id: 1 }, { $bit: { long: { and: new Int32(0xff) } } });
    await items.updateOne({ _id: 1 }, { $bit: { int: { or: Long.fromNumber(1) } } });
    await items.updateOne(
      { _id: 1 },
      bit({ missing: { xor: new Int32(5) }, twice: { or: new Int32(1), and: new Int32(3) } }),
    );
    const doc = await items.findOne({ _id: 1 }, RAW);
    expect(typed(doc)).toEqual({
      _id: 'int:1',
      long: `long:${(12345678901234n & 0xffn).toString()}`,
      int: 'long:7',
      missing: 'int:5',
      twice: 'int:1',
    });
  });

  it('refuses a non-integral field and a double operand with mongod BadValue messages', async () => {
    const items = collectionOf('bit_refusals');
    await items.insertOne({ _id: 1, double: new Double(6), fraction: 1.5 });
    await expect(
      items.updateOne({ _id: 1 }, { $bit: { double: { or: new Int32(1) } } }),
    ).rejects.toMatchObject({
      code: 2,
      message:
        'Cannot apply $bit to a value of non-integral type._id: 1 has the field double of non-integer type double',
    });
    await expect(
      items.updateOne({ _id: 1 }, { $bit: { fraction: { and: new Int32(1) } } }),
    ).rejects.toMatchObject({ code: 2 });
    await expect(items.updateOne({ _id: 1 }, bit({ n: { and: new Double(1) } }))).rejects.toMatchObject({
      code: 2,
      message:
        "The $bit modifier field must be an Integer(32/64 bit); a 'double' is not supported here: {and: 1.0}",
    });
    await expect(items.updateOne({ _id: 1 }, bit({ n: { not: new Int32(1) } }))).rejects.toMatchObject({
      code: 2,
      message:
        "The $bit modifier only supports 'and', 'or', and 'xor', not 'not' which is an unknown operator: {not: 1}",
    });
    expect(typed(await items.findOne({ _id: 1 }, RAW))).toEqual({
      _id: 'int:1',
      double: 'double:6',
      fraction: 'double:1.5',
    });
  });
});

describe('decimal conversions and $mod keep the cohort', () => {
  it('$toDecimal and $convert of a double give 15 significant digits, trailing zeros kept', async () => {
    const items = collectionOf('to_decimal');
    await items.insertOne({ _id: 1, tenth: 0.1, half: 2.5, whole: new Double(3), big: 1e20, third: 1 / 3 });
    const [row] = await items
      .aggregate(
        [
          {
            $project: {
              _id: 0,
              tenth: { $toDecimal: '$tenth' },
              half: { $convert: { input: '$half', to: 'decimal' } },
              whole: { $toDecimal: '$whole' },
              big: { $toDecimal: '$big' },
              third: { $toDecimal: '$third' },
              int: { $toDecimal: new Int32(7) },
            },
          },
        ],
        RAW,
      )
      .toArray();
    expect(typed(row)).toEqual({
      tenth: 'decimal:0.100000000000000',
      half: 'decimal:2.50000000000000',
      whole: 'decimal:3.00000000000000',
      big: 'decimal:1.00000000000000E+20',
      third: 'decimal:0.333333333333333',
      int: 'decimal:7',
    });
  });

  it('$mod of decimals keeps the smaller exponent (7.50 mod 2 is 1.50)', async () => {
    const items = collectionOf('decimal_mod');
    await items.insertOne({ _id: 1, a: Decimal128.fromString('7.50'), b: Decimal128.fromString('10.00') });
    const [row] = await items
      .aggregate(
        [
          {
            $project: {
              _id: 0,
              byInt: { $mod: ['$a', 2] },
              byDecimal: { $mod: ['$b', Decimal128.fromString('3.0')] },
              negative: { $mod: [Decimal128.fromString('-7.50'), 2] },
              exact: { $mod: ['$b', 5] },
            },
          },
        ],
        RAW,
      )
      .toArray();
    expect(typed(row)).toEqual({
      byInt: 'decimal:1.50',
      byDecimal: 'decimal:1.00',
      negative: 'decimal:-1.50',
      exact: 'decimal:0.00',
    });
  });
});

describe('the general engine groups equal numbers of every type together', () => {
  it('puts a long beyond 2^53 and equal decimals in one $group key', async () => {
    const items = collectionOf('group_wide');
    await items.insertMany([
      { _id: 1, k: Long.fromString('9007199254740993') },
      { _id: 2, k: Decimal128.fromString('9007199254740993') },
      { _id: 3, k: Decimal128.fromString('9007199254740993.00') },
      { _id: 4, k: Long.fromString('9007199254740992') },
    ]);
    // A leading $addFields keeps the native $group out: the query engine's hash groups.
    for (const id of ['$k', { k: '$k' }]) {
      const groups = await items
        .aggregate([
          { $addFields: { seen: true } },
          { $group: { _id: id, n: { $sum: 1 } } },
          { $sort: { n: 1 } },
        ])
        .toArray();
      expect(groups.map((group) => group.n)).toEqual([1, 3]);
    }
  });
});

describe('$sum and $avg add as mongod does, in a double-double running sum', () => {
  // Naively 1e16 + 1 + 1 + 1 + 1 stays 1e16 and ten 0.1s make 0.9999999999999999; mongod's
  // DoubleDoubleSummation keeps the lost parts and answers 10000000000000004 and 1.
  const big = [1e16, 1, 1, 1, 1];
  const tenths = Array.from({ length: 10 }, () => 0.1);
  const expected = [
    { _id: 'big', sum: 'double:10000000000000004', avg: 'double:2000000000000000.8' },
    { _id: 'tenths', sum: 'double:1', avg: 'double:0.1' },
  ];

  async function seed(name: string) {
    const items = collectionOf(name);
    await items.insertMany([
      ...big.map((v, index) => ({ _id: index, g: 'big', v, t: index })),
      ...tenths.map((v, index) => ({ _id: 100 + index, g: 'tenths', v, t: index })),
    ]);
    return items;
  }

  it('in $group, natively and in the general engine', async () => {
    const items = await seed('double_double_group');
    const group = { $group: { _id: '$g', sum: { $sum: '$v' }, avg: { $avg: '$v' } } };
    for (const pipeline of [[group], [{ $match: { v: { $exists: true } } }, group]]) {
      const rows = await items.aggregate([...pipeline, { $sort: { _id: 1 } }], RAW).toArray();
      expect(rows.map(typed)).toEqual(expected);
    }
  });

  it('in the expression forms over an array', async () => {
    const items = collectionOf('double_double_expression');
    await items.insertMany([
      { _id: 1, g: 'big', values: big },
      { _id: 2, g: 'tenths', values: tenths },
    ]);
    const rows = await items
      .aggregate(
        [
          { $project: { _id: '$g', sum: { $sum: '$values' }, avg: { $avg: '$values' } } },
          { $sort: { _id: 1 } },
        ],
        RAW,
      )
      .toArray();
    expect(rows.map(typed)).toEqual(expected);
  });

  it('in $setWindowFields over a whole partition', async () => {
    const items = await seed('double_double_window');
    const rows = await items
      .aggregate(
        [
          {
            $setWindowFields: {
              partitionBy: '$g',
              sortBy: { t: 1 },
              output: {
                sum: { $sum: '$v', window: { documents: ['unbounded', 'unbounded'] } },
                avg: { $avg: '$v', window: { documents: ['unbounded', 'unbounded'] } },
              },
            },
          },
          { $group: { _id: '$g', sum: { $first: '$sum' }, avg: { $first: '$avg' } } },
          { $sort: { _id: 1 } },
        ],
        RAW,
      )
      .toArray();
    expect(rows.map(typed)).toEqual(expected);
  });

  it('in $integral, whose trapezoids add up the same way', async () => {
    const items = collectionOf('double_double_integral');
    // Unit-width trapezoids of areas 1e16, 1, 1, 1, 1 (the heights 2e16, 0, 2, 0, 2).
    const heights = [2e16, 0, 2, 0, 2];
    await items.insertMany(heights.map((y, t) => ({ _id: t, t, y })));
    const rows = await items
      .aggregate(
        [
          {
            $setWindowFields: {
              sortBy: { t: 1 },
              output: {
                area: { $integral: { input: '$y' }, window: { documents: ['unbounded', 'unbounded'] } },
              },
            },
          },
          { $limit: 1 },
          { $project: { _id: 0, area: 1 } },
        ],
        RAW,
      )
      .toArray();
    expect(rows.map(typed)).toEqual([{ area: 'double:10000000000000004' }]);
  });
});
