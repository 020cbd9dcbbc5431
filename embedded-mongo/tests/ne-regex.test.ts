import { BSONRegExp } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('ne_regex');

const refusal = { code: 2, message: "Can't have regex as arg to $ne." };

describe('$ne, $gt, $gte, $lt and $lte with a regular expression are refused as mongod refuses them', () => {
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

  it('refuses it to $gt, $gte, $lt and $lte, naming the field, collated or not', async () => {
    const items = suite.db.collection('range_regex_refused');
    await items.insertMany([{ a: { b: 'xyz' } }, { a: { b: 'abc' } }]);
    const refusalOver = { code: 2, message: "Can't have RegEx as arg to predicate over field 'a.b'." };
    for (const operator of ['$gt', '$gte', '$lt', '$lte']) {
      await expect(items.find({ 'a.b': { [operator]: /x/ } }).toArray()).rejects.toMatchObject(refusalOver);
      await expect(
        items.find({ 'a.b': { [operator]: new BSONRegExp('x') } }).toArray(),
      ).rejects.toMatchObject(refusalOver);
      await expect(
        items.find({ 'a.b': { [operator]: /x/ } }, { collation: { locale: 'en' } }).toArray(),
      ).rejects.toMatchObject(refusalOver);
      await expect(items.deleteMany({ 'a.b': { [operator]: /x/ } })).rejects.toMatchObject(refusalOver);
    }
    expect(await items.countDocuments({})).toBe(2);
    // In an aggregation expression a regular expression is a value like any other, compared by type order.
    const compared = await items
      .aggregate([{ $project: { _id: 0, above: { $gt: ['$a.b', /x/] } } }])
      .toArray();
    expect(compared).toEqual([{ above: false }, { above: false }]);
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
