import { BSONRegExp } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('ne_regex');

const refusal = { code: 2, message: "Can't have regex as arg to $ne." };

describe('$ne with a regular expression is refused as mongod refuses it', () => {
  it('refuses it in find, count, aggregate $match, update and delete filters, also under $not', async () => {
    const items = suite.db.collection('ne_regex_refused');
    await items.insertMany([{ a: 'xyz' }, { a: 'abc' }]);
    await expect(items.find({ a: { $ne: /x/ } }).toArray()).rejects.toMatchObject(refusal);
    await expect(items.find({ a: { $ne: new BSONRegExp('x', 'i') } }).toArray()).rejects.toMatchObject(
      refusal,
    );
    await expect(items.find({ a: { $not: { $ne: /x/ } } }).toArray()).rejects.toMatchObject(refusal);
    await expect(items.countDocuments({ a: { $ne: /x/ } })).rejects.toMatchObject(refusal);
    await expect(items.aggregate([{ $match: { a: { $ne: /x/ } } }]).toArray()).rejects.toMatchObject(refusal);
    await expect(items.updateMany({ a: { $ne: /x/ } }, { $set: { b: 1 } })).rejects.toMatchObject(refusal);
    await expect(items.deleteMany({ a: { $ne: /x/ } })).rejects.toMatchObject(refusal);
    await expect(
      items.find({ a: { $ne: /x/ } }, { collation: { locale: 'en', strength: 2 } }).toArray(),
    ).rejects.toMatchObject(refusal);
    // Nothing was changed or removed by the refused writes.
    expect(await items.countDocuments({ b: { $exists: true } })).toBe(0);
    expect(await items.countDocuments({})).toBe(2);
  });

  it('still takes a regular expression in $nin and a string in $ne', async () => {
    const items = suite.db.collection('ne_regex_allowed');
    await items.insertMany([{ a: 'xyz' }, { a: 'abc' }]);
    const values = async (filter: object) =>
      (await items.find(filter).sort({ a: 1 }).toArray()).map((doc) => doc.a as string);
    expect(await values({ a: { $nin: [/x/] } })).toEqual(['abc']);
    expect(await values({ a: { $ne: 'xyz' } })).toEqual(['abc']);
    expect(await values({ a: { $not: /x/ } })).toEqual(['abc']);
  });
});
