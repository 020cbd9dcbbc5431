import { Decimal128, Long } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('matched_updates');

interface Item {
  _id: number;
  f?: Long | number;
  g?: Decimal128 | number;
  sub: { n: number; m?: number };
  list: string[];
}

describe('an update applies to every document its filter matched, whatever the numeric types', () => {
  it('applies dotted $set and $push to a Long 5 matched by {f: 5} and a decimal 5.0 by {g: 5}', async () => {
    const items = suite.db.collection<Item>('long_matched');
    await items.insertMany([
      { _id: 1, f: Long.fromNumber(5), sub: { n: 0 }, list: [] },
      { _id: 2, f: Long.fromNumber(5), sub: { n: 0 }, list: [] },
      { _id: 3, g: Decimal128.fromString('5.0'), sub: { n: 0 }, list: [] },
    ]);
    const one = await items.updateOne({ f: 5 }, { $set: { 'sub.n': 1 }, $push: { list: 'one' } });
    expect({ matched: one.matchedCount, modified: one.modifiedCount }).toEqual({ matched: 1, modified: 1 });
    const many = await items.updateMany({ f: 5 }, { $set: { 'sub.m': 2 } });
    expect({ matched: many.matchedCount, modified: many.modifiedCount }).toEqual({ matched: 2, modified: 2 });
    const found = await items.findOneAndUpdate(
      { g: 5 },
      { $set: { 'sub.n': 3 }, $push: { list: 'three' } },
      { returnDocument: 'after' },
    );
    expect(found?.sub).toEqual({ n: 3 });
    const docs = await items.find({}).sort({ _id: 1 }).toArray();
    expect(docs.map((doc) => ({ _id: doc._id, sub: doc.sub, list: doc.list }))).toEqual([
      { _id: 1, sub: { n: 1, m: 2 }, list: ['one'] },
      { _id: 2, sub: { n: 0, m: 2 }, list: [] },
      { _id: 3, sub: { n: 3 }, list: ['three'] },
    ]);
  });
});
