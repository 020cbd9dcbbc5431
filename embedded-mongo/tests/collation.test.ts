import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  Long,
  MongoClient,
  MongoServerError,
  type CollationOptions,
  type Collection,
  type Document,
} from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';
import { EmbeddedMongoServer } from '../src/index.js';

const suite = useDriverDatabase('collation');

/** A collection whose documents have numeric `_id`s. */
function collection(name: string): Collection<NumberedDocument> {
  return suite.db.collection<NumberedDocument>(name);
}

interface NumberedDocument {
  _id: number;
  [field: string]: unknown;
}

const CASE_INSENSITIVE: CollationOptions = { locale: 'en_US', strength: 2 };

/** The full spec mongod fills in for `{locale: 'en_US', strength: 2}`. */
const FULL_CASE_INSENSITIVE = {
  locale: 'en_US',
  caseLevel: false,
  caseFirst: 'off',
  strength: 2,
  numericOrdering: false,
  alternate: 'non-ignorable',
  maxVariable: 'punct',
  normalization: false,
  backwards: false,
  version: '57.1',
};

async function serverError(run: () => Promise<unknown>): Promise<MongoServerError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof MongoServerError) return error;
    throw error;
  }
  throw new Error('expected the server to refuse');
}

function ids(docs: Document[]): unknown[] {
  return docs.map((doc) => doc._id);
}

describe('collation', () => {
  it('matches, sorts, counts and pages a find by the collation', async () => {
    const words = collection('find_words');
    await words.insertMany([
      { _id: 1, word: 'ping' },
      { _id: 2, word: 'PING' },
      { _id: 3, word: 'pong' },
      { _id: 4, word: 'Ping' },
    ]);
    expect(ids(await words.find({ word: 'ping' }).toArray())).toEqual([1]);
    expect(
      ids(await words.find({ word: 'ping' }, { collation: CASE_INSENSITIVE }).sort({ _id: 1 }).toArray()),
    ).toEqual([1, 2, 4]);
    expect(
      ids(
        await words
          .find({ word: { $in: ['PONG'] } }, { collation: CASE_INSENSITIVE, projection: { _id: 1 } })
          .toArray(),
      ),
    ).toEqual([3]);
    expect(
      ids(await words.find({ word: { $ne: 'PING' } }, { collation: CASE_INSENSITIVE }).toArray()),
    ).toEqual([3]);
    expect(await words.countDocuments({ word: 'PING' }, { collation: CASE_INSENSITIVE })).toBe(3);
    const counted = await suite.db.command({
      count: 'find_words',
      query: { word: 'PING' },
      collation: CASE_INSENSITIVE,
    });
    expect(counted.n).toBe(3);
    const page = await words
      .find({}, { collation: CASE_INSENSITIVE })
      .sort({ word: -1, _id: 1 })
      .skip(1)
      .limit(2)
      .toArray();
    expect(ids(page)).toEqual([1, 2]);
  });

  it('tells strengths 1, 2 and 3 apart: base letters, then accents, then case', async () => {
    const names = collection('strength_names');
    await names.insertMany([
      { _id: 1, name: 'cote' },
      { _id: 2, name: 'côte' },
      { _id: 3, name: 'Cote' },
      { _id: 4, name: 'coter' },
    ]);
    const matching = async (strength: number): Promise<unknown[]> =>
      ids(
        await names
          .find({ name: 'cote' }, { collation: { locale: 'fr', strength } })
          .sort({ _id: 1 })
          .toArray(),
      );
    expect(await matching(1)).toEqual([1, 2, 3]);
    expect(await matching(2)).toEqual([1, 3]);
    expect(await matching(3)).toEqual([1]);
  });

  it("follows a locale's own rules: French Canadian weighs accents from the end (backwards: true)", async () => {
    const words = collection('backwards_words');
    await words.insertMany([
      { _id: 1, word: 'côté' },
      { _id: 2, word: 'coté' },
      { _id: 3, word: 'côte' },
      { _id: 4, word: 'cote' },
    ]);
    const sorted = async (collation: CollationOptions): Promise<unknown[]> =>
      (await words.find({}, { collation }).sort({ word: 1 }).toArray()).map((doc) => doc.word);
    expect(await sorted({ locale: 'fr' })).toEqual(['cote', 'coté', 'côte', 'côté']);
    expect(await sorted({ locale: 'fr_CA' })).toEqual(['cote', 'côte', 'coté', 'côté']);
    expect(await sorted({ locale: 'fr_CA', backwards: true })).toEqual(['cote', 'côte', 'coté', 'côté']);
    await words.createIndex({ word: 1 }, { collation: { locale: 'fr_CA' } });
    const index = (await words.listIndexes().toArray()).find((candidate) => candidate.name === 'word_1');
    expect(index?.collation).toMatchObject({ locale: 'fr_CA', backwards: true });
  });

  it('orders digits by their numeric value under numericOrdering, in sorts and ranges', async () => {
    const versions = collection('numeric_versions');
    await versions.insertMany([
      { _id: 1, version: '10' },
      { _id: 2, version: '9' },
      { _id: 3, version: '100' },
    ]);
    const binary = await versions.find({}).sort({ version: 1 }).toArray();
    expect(ids(binary)).toEqual([1, 3, 2]);
    const numeric = await versions
      .find({}, { collation: { locale: 'en', numericOrdering: true } })
      .sort({ version: 1 })
      .toArray();
    expect(ids(numeric)).toEqual([2, 1, 3]);
    const below = await versions
      .find({ version: { $lt: '50' } }, { collation: { locale: 'en', numericOrdering: true } })
      .sort({ _id: 1 })
      .toArray();
    expect(ids(below)).toEqual([1, 2]);
  });

  it('puts upper case first under caseFirst "upper" and lower case first by default', async () => {
    const letters = collection('case_first_letters');
    await letters.insertMany([
      { _id: 1, letter: 'a' },
      { _id: 2, letter: 'A' },
      { _id: 3, letter: 'b' },
    ]);
    const upperFirst = await letters
      .find({}, { collation: { locale: 'en', caseFirst: 'upper' } })
      .sort({ letter: 1 })
      .toArray();
    expect(ids(upperFirst)).toEqual([2, 1, 3]);
    const byDefault = await letters
      .find({}, { collation: { locale: 'en' } })
      .sort({ letter: 1 })
      .toArray();
    expect(ids(byDefault)).toEqual([1, 2, 3]);
  });

  it('ignores spaces and punctuation under alternate "shifted"', async () => {
    const codes = collection('shifted_codes');
    await codes.insertMany([
      { _id: 1, code: 'ab-12' },
      { _id: 2, code: 'ab 12' },
      { _id: 3, code: 'ab12' },
      { _id: 4, code: 'ab13' },
    ]);
    const shifted = await codes
      .find({ code: 'ab12' }, { collation: { locale: 'en', alternate: 'shifted' } })
      .sort({ _id: 1 })
      .toArray();
    expect(ids(shifted)).toEqual([1, 2, 3]);
    const nonIgnorable = await codes.find({ code: 'ab12' }, { collation: { locale: 'en' } }).toArray();
    expect(ids(nonIgnorable)).toEqual([3]);
  });

  it('compares strings nested in documents and arrays by the collation', async () => {
    const people = collection('nested_people');
    await people.insertMany([
      { _id: 1, name: { first: 'ada', last: 'lovelace' }, tags: ['Math', 'poetry'] },
      { _id: 2, name: { first: 'alan', last: 'turing' }, tags: ['math'] },
    ]);
    const byName = await people
      .find({ name: { first: 'ADA', last: 'LOVELACE' } }, { collation: CASE_INSENSITIVE })
      .toArray();
    expect(ids(byName)).toEqual([1]);
    const byTag = await people
      .find({ tags: 'MATH' }, { collation: CASE_INSENSITIVE })
      .sort({ _id: 1 })
      .toArray();
    expect(ids(byTag)).toEqual([1, 2]);
    const byWholeArray = await people.find({ tags: ['MATH'] }, { collation: CASE_INSENSITIVE }).toArray();
    expect(ids(byWholeArray)).toEqual([2]);
  });

  it('dedupes distinct values by the collation, keeping the first met', async () => {
    const colours = collection('distinct_colours');
    await colours.insertMany([
      { _id: 1, colour: 'Red' },
      { _id: 2, colour: 'red' },
      { _id: 3, colour: 'blue' },
      { _id: 4, colour: 'BLUE' },
    ]);
    expect(await colours.distinct('colour')).toEqual(['BLUE', 'Red', 'blue', 'red']);
    expect(await colours.distinct('colour', {}, { collation: CASE_INSENSITIVE })).toEqual(['blue', 'Red']);
  });

  it('collates $match, $sort, $group keys and comparison expressions in aggregate', async () => {
    const orders = collection('aggregate_orders');
    await orders.insertMany([
      { _id: 1, city: 'Paris', amount: 5 },
      { _id: 2, city: 'PARIS', amount: 7 },
      { _id: 3, city: 'lyon', amount: 1 },
      { _id: 4, city: 'Lyon', amount: 2 },
    ]);
    const grouped = await orders
      .aggregate(
        [
          { $match: { city: { $in: ['paris', 'LYON'] } } },
          { $group: { _id: '$city', total: { $sum: '$amount' } } },
          { $sort: { _id: 1 } },
        ],
        { collation: CASE_INSENSITIVE },
      )
      .toArray();
    expect(grouped).toEqual([
      { _id: 'lyon', total: 3 },
      { _id: 'Paris', total: 12 },
    ]);
    const flagged = await orders
      .aggregate(
        [
          {
            $project: {
              isParis: { $eq: ['$city', 'paris'] },
              inList: { $in: ['$city', ['LYON']] },
              order: { $cmp: ['$city', 'MARSEILLE'] },
            },
          },
          { $sort: { _id: 1 } },
        ],
        { collation: CASE_INSENSITIVE },
      )
      .toArray();
    expect(flagged).toEqual([
      { _id: 1, isParis: true, inList: false, order: 1 },
      { _id: 2, isParis: true, inList: false, order: 1 },
      { _id: 3, isParis: false, inList: true, order: -1 },
      { _id: 4, isParis: false, inList: true, order: -1 },
    ]);
    const extremes = await orders
      .aggregate(
        [
          {
            $group: {
              _id: null,
              first: { $min: '$city' },
              last: { $max: '$city' },
              cities: { $addToSet: '$city' },
            },
          },
        ],
        { collation: CASE_INSENSITIVE },
      )
      .toArray();
    expect(extremes).toEqual([{ _id: null, first: 'lyon', last: 'Paris', cities: ['Paris', 'lyon'] }]);
    const binary = await orders.aggregate([{ $group: { _id: '$city' } }]).toArray();
    expect(binary).toHaveLength(4);
  });

  it('joins $lookup on collated keys and counts $sortByCount groups by the collation', async () => {
    await collection('lookup_authors').insertMany([
      { _id: 1, handle: 'Ada' },
      { _id: 2, handle: 'alan' },
    ]);
    const posts = collection('lookup_posts');
    await posts.insertMany([
      { _id: 10, author: 'ADA' },
      { _id: 11, author: 'ada' },
      { _id: 12, author: 'grace' },
    ]);
    const joined = await posts
      .aggregate(
        [
          { $lookup: { from: 'lookup_authors', localField: 'author', foreignField: 'handle', as: 'by' } },
          { $project: { ids: '$by._id' } },
          { $sort: { _id: 1 } },
        ],
        { collation: CASE_INSENSITIVE },
      )
      .toArray();
    expect(joined).toEqual([
      { _id: 10, ids: [1] },
      { _id: 11, ids: [1] },
      { _id: 12, ids: [] },
    ]);
    const counted = await posts
      .aggregate([{ $sortByCount: '$author' }], { collation: CASE_INSENSITIVE })
      .toArray();
    expect(counted).toEqual([
      { _id: 'ADA', count: 2 },
      { _id: 'grace', count: 1 },
    ]);
  });

  it('selects the documents an update, a delete and a findAndModify change by the collation', async () => {
    const accounts = collection('write_accounts');
    await accounts.insertMany([
      { _id: 1, handle: 'ada' },
      { _id: 2, handle: 'ADA' },
      { _id: 3, handle: 'alan' },
      { _id: 4, handle: 'Alan' },
    ]);
    const updated = await accounts.updateMany(
      { handle: 'Ada' },
      { $set: { flagged: true } },
      { collation: CASE_INSENSITIVE },
    );
    expect(updated).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    const untouched = await accounts.updateMany({ handle: 'Ada' }, { $set: { other: true } });
    expect(untouched.matchedCount).toBe(0);
    const found = await accounts.findOneAndUpdate(
      { handle: 'ALAN' },
      { $set: { renamed: true } },
      { collation: CASE_INSENSITIVE, sort: { _id: -1 }, returnDocument: 'after' },
    );
    expect(found).toMatchObject({ _id: 4, renamed: true });
    const deleted = await accounts.deleteMany({ handle: 'ALAN' }, { collation: CASE_INSENSITIVE });
    expect(deleted.deletedCount).toBe(2);
    expect(ids(await accounts.find({}).sort({ _id: 1 }).toArray())).toEqual([1, 2]);
  });

  it('compares by the collation in $max and $min, on fields and dotted paths', async () => {
    const names = collection('collated_max_min');
    await names.insertMany([
      { _id: 1, name: 'B', inner: { name: 'B' } },
      { _id: 2, name: 'B', inner: { name: 'B' } },
    ]);
    // Under en_US 'a' < 'B': $max keeps 'B' and $min takes 'a'; in byte order (no collation) 'B' < 'a'.
    await names.updateOne(
      { _id: 1 },
      { $max: { name: 'a' }, $min: { 'inner.name': 'a' } },
      { collation: CASE_INSENSITIVE },
    );
    await names.updateOne({ _id: 2 }, { $max: { name: 'a' }, $min: { 'inner.name': 'a' } });
    expect(await names.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, name: 'B', inner: { name: 'a' } },
      { _id: 2, name: 'a', inner: { name: 'B' } },
    ]);
    // Embedded documents compare field by field in BSON order: the type of each value first (all numbers
    // alike, an array above a document), then the name, then the value.
    await names.updateOne({ _id: 1 }, { $set: { numbers: { x: Long.fromNumber(9) }, mixed: { x: [1] } } });
    await names.updateOne(
      { _id: 1 },
      { $min: { numbers: { y: 1 } }, $max: { mixed: { y: {} } } },
      { collation: CASE_INSENSITIVE },
    );
    expect(await names.findOne({ _id: 1 }, { projection: { numbers: 1, mixed: 1 } })).toEqual({
      _id: 1,
      numbers: { x: 9 },
      mixed: { x: [1] },
    });
  });

  it('applies each bulk write statement with its own collation', async () => {
    const items = collection('bulk_items');
    await items.insertMany([
      { _id: 1, sku: 'abc' },
      { _id: 2, sku: 'ABC' },
      { _id: 3, sku: 'xyz' },
    ]);
    const result = await items.bulkWrite([
      { updateMany: { filter: { sku: 'Abc' }, update: { $set: { seen: 1 } }, collation: CASE_INSENSITIVE } },
      { updateOne: { filter: { sku: 'Abc' }, update: { $set: { seen: 2 } } } },
      { deleteOne: { filter: { sku: 'XYZ' }, collation: CASE_INSENSITIVE } },
    ]);
    expect(result).toMatchObject({ matchedCount: 2, modifiedCount: 2, deletedCount: 1 });
    expect(await items.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, sku: 'abc', seen: 1 },
      { _id: 2, sku: 'ABC', seen: 1 },
    ]);
  });

  it('makes "a" and "A" collide in a unique index with strength 2, and lists its full collation', async () => {
    const users = collection('unique_users');
    await users.createIndex({ email: 1 }, { unique: true, collation: CASE_INSENSITIVE });
    await users.insertOne({ _id: 1, email: 'ada@example.com' });
    const error = await serverError(() => users.insertOne({ _id: 2, email: 'ADA@example.com' }));
    expect(error.code).toBe(11000);
    expect(error.message).toMatch(/index: email_1 dup key/);
    const indexes = await users.listIndexes().toArray();
    expect(indexes.find((index) => index.name === 'email_1')).toEqual({
      v: 2,
      key: { email: 1 },
      name: 'email_1',
      unique: true,
      collation: FULL_CASE_INSENSITIVE,
    });
    // A query with the index's collation finds through it; a binary one must not take its equal strings.
    expect(
      ids(await users.find({ email: 'ADA@EXAMPLE.COM' }, { collation: CASE_INSENSITIVE }).toArray()),
    ).toEqual([1]);
    expect(await users.find({ email: 'ADA@EXAMPLE.COM' }).toArray()).toEqual([]);
    expect(ids(await users.find({ email: 'ada@example.com' }).toArray())).toEqual([1]);
  });

  it('answers equality and range lookups through a collated index correctly', async () => {
    const cities = collection('indexed_cities');
    await cities.createIndex({ name: 1 }, { collation: CASE_INSENSITIVE });
    const names = ['Berlin', 'bern', 'BONN', 'Athens', 'cairo', 'Delhi'];
    await cities.insertMany(names.map((name, index) => ({ _id: index + 1, name })));
    expect(ids(await cities.find({ name: 'BERLIN' }, { collation: CASE_INSENSITIVE }).toArray())).toEqual([
      1,
    ]);
    expect(await cities.find({ name: 'paris' }, { collation: CASE_INSENSITIVE }).toArray()).toEqual([]);
    const range = await cities
      .find({ name: { $gte: 'B', $lt: 'C' } }, { collation: CASE_INSENSITIVE })
      .sort({ name: 1 })
      .toArray();
    expect(range.map((doc) => doc.name)).toEqual(['Berlin', 'bern', 'BONN']);
    const binaryRange = await cities
      .find({ name: { $gte: 'B', $lt: 'C' } })
      .sort({ name: 1 })
      .toArray();
    expect(binaryRange.map((doc) => doc.name)).toEqual(['BONN', 'Berlin']);
  });

  it('uses a collection default collation for operations and indexes that name none; "simple" overrides it', async () => {
    await suite.db.createCollection('default_tags', { collation: CASE_INSENSITIVE });
    const tags = collection('default_tags');
    const [info] = await suite.db.listCollections({ name: 'default_tags' }).toArray();
    expect((info as Document).options).toEqual({ collation: FULL_CASE_INSENSITIVE });
    expect((info as Document).idIndex).toEqual({
      v: 2,
      key: { _id: 1 },
      name: '_id_',
      collation: FULL_CASE_INSENSITIVE,
    });
    await tags.insertMany([
      { _id: 1, tag: 'news' },
      { _id: 2, tag: 'NEWS' },
      { _id: 3, tag: 'sport' },
    ]);
    expect(ids(await tags.find({ tag: 'News' }).sort({ _id: 1 }).toArray())).toEqual([1, 2]);
    expect(await tags.countDocuments({ tag: 'News' })).toBe(2);
    expect(await tags.distinct('tag')).toEqual(['news', 'sport']);
    expect(await tags.find({ tag: 'News' }, { collation: { locale: 'simple' } }).toArray()).toEqual([]);
    expect((await tags.deleteOne({ tag: 'SPORT' })).deletedCount).toBe(1);

    await tags.createIndex({ tag: 1 }, { name: 'inherits' });
    await tags.createIndex({ other: 1 }, { name: 'binary', collation: { locale: 'simple' } });
    const indexes = await tags.listIndexes().toArray();
    expect(indexes.find((index) => index.name === 'inherits')?.collation).toEqual(FULL_CASE_INSENSITIVE);
    expect(indexes.find((index) => index.name === 'binary')).not.toHaveProperty('collation');
    expect(indexes.find((index) => index.name === '_id_')?.collation).toEqual(FULL_CASE_INSENSITIVE);
  });

  it('refuses invalid collation specs with mongod codes', async () => {
    const words = collection('invalid_specs');
    await words.insertOne({ _id: 1, word: 'a' });
    const refused = async (collation: Document): Promise<MongoServerError> =>
      serverError(() => words.find({}, { collation: collation as CollationOptions }).toArray());

    const unknownField = await refused({ locale: 'en', colour: 'blue' });
    expect(unknownField.code).toBe(40415);
    expect(unknownField.message).toBe("BSON field 'collation.colour' is an unknown field.");
    const missingLocale = await refused({ strength: 2 });
    expect(missingLocale.code).toBe(40414);
    const badLocale = await refused({ locale: 'xx_YY' });
    expect(badLocale.code).toBe(2);
    expect(badLocale.message).toMatch(/^Field 'locale' is invalid in: /);
    const hyphenated = await refused({ locale: 'en-US' });
    expect(hyphenated.code).toBe(2);
    expect((await refused({ locale: 'en', strength: 6 })).code).toBe(2);
    expect((await refused({ locale: 'en', strength: 'high' })).code).toBe(14);
    expect((await refused({ locale: 'en', caseFirst: 'upper', strength: 1 })).code).toBe(2);
    expect((await refused({ locale: 'en', backwards: true, strength: 1 })).code).toBe(2);
    expect((await refused({ locale: 'en', version: '1.0' })).code).toBe(161);
    // What Intl.Collator cannot honour is refused rather than approximated.
    expect((await refused({ locale: 'en', backwards: true })).code).toBe(2);
    expect((await refused({ locale: 'fr_CA', backwards: false })).code).toBe(2);

    const indexError = await serverError(() =>
      words.createIndex({ word: 1 }, { collation: { locale: 'nope' } as CollationOptions }),
    );
    expect(indexError.code).toBe(2);
    const createError = await serverError(() =>
      suite.db.createCollection('never_created', { collation: { locale: 'en', strength: 9 } }),
    );
    expect(createError.code).toBe(2);
    expect(await suite.db.listCollections({ name: 'never_created' }).toArray()).toEqual([]);
  });

  it('keeps a collection default collation and collated indexes across a restart (DATA_DIR)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-collation-'));
    const useServer = async (run: (db: ReturnType<MongoClient['db']>) => Promise<void>): Promise<void> => {
      const server = await EmbeddedMongoServer.start({ dataDir });
      const client = await MongoClient.connect(`${server.uri}persisted_collation`);
      try {
        await run(client.db());
      } finally {
        await client.close();
        await server.stop();
      }
    };
    await useServer(async (db) => {
      await db.createCollection('handles', { collation: CASE_INSENSITIVE });
      await db.collection('handles').createIndex({ handle: 1 }, { unique: true });
      await db.collection('handles').insertOne({ handle: 'ada' });
    });
    await useServer(async (db) => {
      const handles = db.collection('handles');
      const [info] = await db.listCollections({ name: 'handles' }).toArray();
      expect((info as Document).options).toEqual({ collation: FULL_CASE_INSENSITIVE });
      const indexes = await handles.listIndexes().toArray();
      expect(indexes.find((index) => index.name === 'handle_1')?.collation).toEqual(FULL_CASE_INSENSITIVE);
      await expect(handles.insertOne({ handle: 'ADA' })).rejects.toMatchObject({ code: 11000 });
      expect(await handles.countDocuments({ handle: 'Ada' })).toBe(1);
    });
  });
});
