import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient, MongoServerError, type Db, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';
import { EmbeddedMongoServer } from '../src/index.js';

const suite = useDriverDatabase('validators');

/** Test documents with numeric `_id`s. */
interface Keyed {
  _id?: number;
  [field: string]: unknown;
}

function keyed(db: Db, name: string) {
  return db.collection<Keyed>(name);
}

/** The error a write gives, for checking its code and errInfo. */
async function failure(write: Promise<unknown>): Promise<MongoServerError> {
  try {
    await write;
  } catch (error) {
    if (error instanceof MongoServerError) return error;
    throw error;
  }
  throw new Error('the write was expected to fail');
}

const PEOPLE_SCHEMA = {
  bsonType: 'object',
  required: ['name', 'age'],
  properties: {
    name: { bsonType: 'string', description: 'must be a string' },
    age: { bsonType: 'int', minimum: 18 },
    role: { enum: ['admin', 'user'] },
  },
};

describe('validators: $jsonSchema', () => {
  it('refuses an insert with DocumentValidationFailure (121) and mongod errInfo', async () => {
    await suite.db.createCollection('people', { validator: { $jsonSchema: PEOPLE_SCHEMA } });
    const people = keyed(suite.db, 'people');
    const error = await failure(people.insertOne({ _id: 1, name: 42, role: 'root' }));
    expect(error.code).toBe(121);
    expect(error.message).toBe('Document failed validation');
    expect(error.errInfo).toEqual({
      failingDocumentId: 1,
      details: {
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [
          {
            operatorName: 'properties',
            propertiesNotSatisfied: [
              {
                propertyName: 'name',
                description: 'must be a string',
                details: [
                  {
                    operatorName: 'bsonType',
                    specifiedAs: { bsonType: 'string' },
                    reason: 'type did not match',
                    consideredValue: 42,
                    consideredType: 'int',
                  },
                ],
              },
              {
                propertyName: 'role',
                details: [
                  {
                    operatorName: 'enum',
                    specifiedAs: { enum: ['admin', 'user'] },
                    reason: 'value was not found in enum',
                    consideredValue: 'root',
                  },
                ],
              },
            ],
          },
          {
            operatorName: 'required',
            specifiedAs: { required: ['name', 'age'] },
            missingProperties: ['age'],
          },
        ],
      },
    });
    expect(await people.countDocuments()).toBe(0);
  });

  it('reports minimum as a failed comparison and accepts a valid document', async () => {
    const people = keyed(suite.db, 'people');
    const error = await failure(people.insertOne({ _id: 2, name: 'bob', age: 10 }));
    expect(error.errInfo?.details).toEqual({
      operatorName: '$jsonSchema',
      schemaRulesNotSatisfied: [
        {
          operatorName: 'properties',
          propertiesNotSatisfied: [
            {
              propertyName: 'age',
              details: [
                {
                  operatorName: 'minimum',
                  specifiedAs: { minimum: 18 },
                  reason: 'comparison failed',
                  consideredValue: 10,
                },
              ],
            },
          ],
        },
      ],
    });
    await people.insertOne({ _id: 3, name: 'ada', age: 36, role: 'admin' });
    expect(await people.countDocuments()).toBe(1);
  });

  it('lists additional properties refused by additionalProperties: false', async () => {
    await suite.db.createCollection('strict', {
      validator: { $jsonSchema: { properties: { _id: {}, a: {} }, additionalProperties: false } },
    });
    const error = await failure(keyed(suite.db, 'strict').insertOne({ _id: 1, a: 1, b: 2, c: 3 }));
    expect(error.errInfo).toEqual({
      failingDocumentId: 1,
      details: {
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [
          {
            operatorName: 'additionalProperties',
            specifiedAs: { additionalProperties: false },
            additionalProperties: ['b', 'c'],
          },
        ],
      },
    });
  });

  it('evaluates string, array, object and logical keywords', async () => {
    // A keyword applies only to values of its type: 'big' satisfies both numeric oneOf branches, so fails.
    await keyed(suite.db, 'shapes').insertMany([
      { _id: 1, code: 'AB-12', tags: ['x', 'y'], size: 3, extra: { a: 1 } },
      { _id: 2, code: 'bad', tags: ['x', 'x'], size: 12 },
      { _id: 3, code: 'CD-34', tags: [], size: 'big', card: 1 },
      { _id: 4, code: 'EF-56', tags: ['z', 1], size: 5, card: 1, billing: 'here' },
    ]);
    const ids = async (schema: Document): Promise<number[]> =>
      (
        await keyed(suite.db, 'shapes')
          .find({ $jsonSchema: schema }, { projection: { _id: 1 } })
          .sort({ _id: 1 })
          .toArray()
      ).map((doc) => doc._id as number);
    expect(await ids({ properties: { code: { pattern: '^[A-Z]{2}-\\d+$', minLength: 5 } } })).toEqual([
      1, 3, 4,
    ]);
    expect(
      await ids({ properties: { tags: { minItems: 1, uniqueItems: true, items: { bsonType: 'string' } } } }),
    ).toEqual([1]);
    expect(await ids({ properties: { size: { oneOf: [{ maximum: 4 }, { minimum: 4 }] } } })).toEqual([
      1, 2, 4,
    ]);
    expect(await ids({ properties: { size: { anyOf: [{ bsonType: 'string' }, { maximum: 4 }] } } })).toEqual([
      1, 3,
    ]);
    expect(await ids({ properties: { size: { not: { bsonType: 'number' } } } })).toEqual([3]);
    expect(await ids({ dependencies: { card: ['billing'] } })).toEqual([1, 2, 4]);
    expect(
      await ids({ minProperties: 5, properties: { extra: { bsonType: 'object', maxProperties: 0 } } }),
    ).toEqual([3, 4]);
    expect(
      await ids({ allOf: [{ required: ['card'] }, { properties: { size: { bsonType: 'int' } } }] }),
    ).toEqual([4]);
  });

  it('explains array keywords, oneOf and not as mongod does', async () => {
    await suite.db.createCollection('lists', {
      validator: {
        $jsonSchema: {
          properties: {
            tags: { bsonType: 'array', maxItems: 2, uniqueItems: true, items: { bsonType: 'string' } },
            level: { oneOf: [{ minimum: 0 }, { maximum: 10 }] },
            kind: { not: { enum: ['forbidden'] } },
          },
        },
      },
    });
    const error = await failure(
      keyed(suite.db, 'lists').insertOne({ _id: 1, tags: ['a', 2, 'a'], level: 5, kind: 'forbidden' }),
    );
    const [properties] = error.errInfo?.details.schemaRulesNotSatisfied as Document[];
    expect(properties?.propertiesNotSatisfied).toEqual([
      {
        propertyName: 'tags',
        details: [
          {
            operatorName: 'items',
            reason: 'At least one item did not match the sub-schema',
            itemIndex: 1,
            details: [
              {
                operatorName: 'bsonType',
                specifiedAs: { bsonType: 'string' },
                reason: 'type did not match',
                consideredValue: 2,
                consideredType: 'int',
              },
            ],
          },
          {
            operatorName: 'maxItems',
            specifiedAs: { maxItems: 2 },
            reason: 'array did not match specified length',
            consideredValue: ['a', 2, 'a'],
            numberOfItems: 3,
          },
          {
            operatorName: 'uniqueItems',
            specifiedAs: { uniqueItems: true },
            reason: 'found a duplicate item',
            consideredValue: ['a', 2, 'a'],
            duplicatedValue: 'a',
          },
        ],
      },
      {
        propertyName: 'level',
        details: [
          { operatorName: 'oneOf', reason: 'more than one subschema matched', matchingSchemaIndexes: [0, 1] },
        ],
      },
      { propertyName: 'kind', details: [{ operatorName: 'not', reason: 'child expression matched' }] },
    ]);
  });
});

describe('validators: query operators', () => {
  it('explains each failing clause of a validator with several clauses', async () => {
    await suite.db.createCollection('stock', {
      validator: { qty: { $gte: 0 }, status: { $in: ['A', 'B'] }, sku: { $type: 'string' } },
    });
    const error = await failure(keyed(suite.db, 'stock').insertOne({ _id: 1, qty: -1, status: 'A', sku: 7 }));
    expect(error.code).toBe(121);
    expect(error.errInfo).toEqual({
      failingDocumentId: 1,
      details: {
        operatorName: '$and',
        clausesNotSatisfied: [
          {
            index: 0,
            details: {
              operatorName: '$gte',
              specifiedAs: { qty: { $gte: 0 } },
              reason: 'comparison failed',
              consideredValue: -1,
            },
          },
          {
            index: 2,
            details: {
              operatorName: '$type',
              specifiedAs: { sku: { $type: 'string' } },
              reason: 'type did not match',
              consideredValue: 7,
              consideredType: 'int',
            },
          },
        ],
      },
    });
  });

  it('explains a single clause directly, with a missing field', async () => {
    await suite.db.createCollection('contacts', { validator: { email: { $exists: true } } });
    const error = await failure(keyed(suite.db, 'contacts').insertOne({ _id: 1, name: 'ada' }));
    expect(error.errInfo).toEqual({
      failingDocumentId: 1,
      details: {
        operatorName: '$exists',
        specifiedAs: { email: { $exists: true } },
        reason: 'path does not exist',
      },
    });
    await suite.db.createCollection('levels', { validator: { level: { $gt: 3 } } });
    const missing = await failure(keyed(suite.db, 'levels').insertOne({ _id: 1 }));
    expect(missing.errInfo?.details).toEqual({
      operatorName: '$gt',
      specifiedAs: { level: { $gt: 3 } },
      reason: 'field was missing',
    });
  });

  it('explains $or and $expr validators', async () => {
    await suite.db.createCollection('ranges', {
      validator: { $or: [{ low: { $lt: 0 } }, { $expr: { $gt: ['$high', '$low'] } }] },
    });
    const error = await failure(keyed(suite.db, 'ranges').insertOne({ _id: 1, low: 5, high: 2 }));
    expect(error.errInfo?.details).toEqual({
      operatorName: '$or',
      clausesNotSatisfied: [
        {
          index: 0,
          details: {
            operatorName: '$lt',
            specifiedAs: { low: { $lt: 0 } },
            reason: 'comparison failed',
            consideredValue: 5,
          },
        },
        {
          index: 1,
          details: {
            operatorName: '$expr',
            specifiedAs: { $expr: { $gt: ['$high', '$low'] } },
            reason: 'expression did not match',
            expressionResult: false,
          },
        },
      ],
    });
    await keyed(suite.db, 'ranges').insertOne({ _id: 2, low: 1, high: 2 });
  });
});

describe('validators: writes, levels and actions', () => {
  it('checks updates, upserts, findAndModify and ordered batches; bypassDocumentValidation skips the check', async () => {
    await suite.db.createCollection('accounts', { validator: { balance: { $gte: 0 } } });
    const accounts = suite.db.collection<{ _id: number; balance: number }>('accounts');
    await accounts.insertOne({ _id: 1, balance: 10 });
    const update = await failure(accounts.updateOne({ _id: 1 }, { $inc: { balance: -20 } }));
    expect(update).toMatchObject({ code: 121 });
    expect(update.errInfo).toMatchObject({ failingDocumentId: 1, details: { operatorName: '$gte' } });
    await expect(
      accounts.updateOne({ _id: 9 }, { $set: { balance: -1 } }, { upsert: true }),
    ).rejects.toMatchObject({
      code: 121,
    });
    const modify = await failure(accounts.findOneAndUpdate({ _id: 1 }, { $set: { balance: -5 } }));
    expect(modify).toMatchObject({ code: 121, errInfo: { failingDocumentId: 1 } });
    const batch = await failure(
      accounts.insertMany([
        { _id: 2, balance: 1 },
        { _id: 3, balance: -1 },
        { _id: 4, balance: 1 },
      ]),
    );
    expect(batch).toMatchObject({ code: 121 });
    expect(await accounts.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, balance: 10 },
      { _id: 2, balance: 1 },
    ]);

    await accounts.insertOne({ _id: 5, balance: -100 }, { bypassDocumentValidation: true });
    await accounts.updateOne({ _id: 1 }, { $set: { balance: -1 } }, { bypassDocumentValidation: true });
    await accounts.findOneAndUpdate(
      { _id: 2 },
      { $set: { balance: -2 } },
      { bypassDocumentValidation: true },
    );
    expect(await accounts.countDocuments({ balance: { $lt: 0 } })).toBe(3);
  });

  it('checks what $out and $merge write into a collection with a validator, unless the aggregate bypasses it', async () => {
    await suite.db.createCollection('ledger', { validator: { balance: { $gte: 0 } } });
    const ledger = keyed(suite.db, 'ledger');
    await ledger.insertOne({ _id: 1, balance: 5 });
    const source = keyed(suite.db, 'ledgerSource');
    await source.insertMany([
      { _id: 1, balance: 7 },
      { _id: 2, balance: -3 },
    ]);
    await expect(source.aggregate([{ $out: 'ledger' }]).toArray()).rejects.toMatchObject({ code: 121 });
    expect(await ledger.find().toArray()).toEqual([{ _id: 1, balance: 5 }]);
    await expect(source.aggregate([{ $merge: { into: 'ledger' } }]).toArray()).rejects.toMatchObject({
      code: 121,
    });
    expect(await ledger.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, balance: 7 }]);

    await source.aggregate([{ $out: 'ledger' }], { bypassDocumentValidation: true }).toArray();
    expect(await ledger.countDocuments({ balance: { $lt: 0 } })).toBe(1);
    await source.updateOne({ _id: 2 }, { $set: { balance: -4 } });
    await source.aggregate([{ $merge: { into: 'ledger' } }], { bypassDocumentValidation: true }).toArray();
    expect(await ledger.findOne({ _id: 2 })).toEqual({ _id: 2, balance: -4 });
  });

  it('moderate level skips updates of documents that already failed; off checks nothing', async () => {
    await suite.db.createCollection('moderate', {
      validator: { score: { $type: 'int' } },
      validationLevel: 'moderate',
    });
    const docs = keyed(suite.db, 'moderate');
    await docs.insertOne({ _id: 1, score: 'legacy' }, { bypassDocumentValidation: true });
    await docs.insertOne({ _id: 2, score: 1 });
    await docs.updateOne({ _id: 1 }, { $set: { score: 'still legacy' } });
    await expect(docs.updateOne({ _id: 2 }, { $set: { score: 'text' } })).rejects.toMatchObject({
      code: 121,
    });
    await expect(docs.insertOne({ _id: 3, score: 'new' })).rejects.toMatchObject({ code: 121 });

    await suite.db.command({ collMod: 'moderate', validationLevel: 'off' });
    await docs.insertOne({ _id: 3, score: 'new' });
    expect(await docs.countDocuments()).toBe(3);
  });

  it('warn action writes the document and reports it without its contents', async () => {
    const warnings: string[] = [];
    const server = await EmbeddedMongoServer.start({ onWarning: (message) => warnings.push(message) });
    const client = await MongoClient.connect(`${server.uri}warned`);
    try {
      const db = client.db();
      await db.createCollection('notes', {
        validator: { text: { $type: 'string' } },
        validationAction: 'warn',
      });
      await keyed(db, 'notes').insertOne({ _id: 7, text: 42, secret: 'hunter2' });
      expect(await keyed(db, 'notes').countDocuments()).toBe(1);
      expect(warnings).toEqual(['Document would fail validation: namespace warned.notes, _id 7']);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe('validators: options', () => {
  it('adds and changes a validator with collMod and lists the options', async () => {
    const items = keyed(suite.db, 'items');
    await items.insertOne({ _id: 1, price: -1 });
    await suite.db.command({ collMod: 'items', validator: { price: { $gte: 0 } } });
    await expect(items.insertOne({ _id: 2, price: -2 })).rejects.toMatchObject({ code: 121 });
    await suite.db.command({ collMod: 'items', validationAction: 'warn', validationLevel: 'moderate' });
    const [info] = await suite.db.listCollections({ name: 'items' }, { nameOnly: false }).toArray();
    expect(info && 'options' in info ? info.options : undefined).toEqual({
      validator: { price: { $gte: 0 } },
      validationAction: 'warn',
      validationLevel: 'moderate',
    });
    await items.insertOne({ _id: 2, price: -2 });
    expect(await items.countDocuments()).toBe(2);
  });

  it('refuses invalid validators and options at create and collMod with mongod codes', async () => {
    const refusals: Array<[Document, number, string?]> = [
      [{ validator: { a: { $foo: 1 } } }, 2, 'unknown operator: $foo'],
      [
        { validator: { $jsonSchema: { $ref: '#/definitions/x' } } },
        9,
        "$jsonSchema keyword '$ref' is not currently supported",
      ],
      [
        { validator: { $jsonSchema: { properties: { email: { format: 'email' } } } } },
        9,
        "$jsonSchema keyword 'format' is not currently supported",
      ],
      [{ validator: { $jsonSchema: { colour: 'red' } } }, 9, 'Unknown $jsonSchema keyword: colour'],
      [{ validator: { $jsonSchema: { bsonType: 'integer' } } }, 2],
      [{ validator: { $jsonSchema: { type: 'object', bsonType: 'object' } } }, 9],
      [{ validator: { $jsonSchema: { required: [] } } }, 9],
      [{ validator: { $jsonSchema: { minimum: 'one' } } }, 14],
      [{ validator: { $where: 'this.a > 1' } }, 2, '$where is not allowed in this context'],
      [{ validator: 5 }, 14],
      [{ validator: { a: 1 }, validationLevel: 'sometimes' }, 2],
      [{ validator: { a: 1 }, validationAction: 'shout' }, 2],
    ];
    for (const [options, code, message] of refusals) {
      const created = await failure(suite.db.command({ create: 'refused', ...options }));
      expect(created.code).toBe(code);
      if (message) expect(created.message).toBe(message);
    }
    expect(await suite.db.listCollections({ name: 'refused' }).toArray()).toEqual([]);
    await suite.db.createCollection('kept', { validator: { a: { $exists: true } } });
    for (const [options, code] of refusals) {
      await expect(suite.db.command({ collMod: 'kept', ...options })).rejects.toMatchObject({ code });
    }
    await expect(keyed(suite.db, 'kept').insertOne({ _id: 1 })).rejects.toMatchObject({ code: 121 });
  });
});

describe('validators: durability', () => {
  it('keeps validators and their collMod changes across a restart and a compaction', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-validators-'));
    const first = await EmbeddedMongoServer.start({ dataDir });
    const firstClient = await MongoClient.connect(`${first.uri}persist`);
    try {
      const db = firstClient.db();
      await db.createCollection('users', { validator: { $jsonSchema: { required: ['email'] } } });
      await db.createCollection('scores', { validator: { score: { $gte: 0 } } });
      await db.command({ collMod: 'scores', validator: { score: { $lte: 100 } } });
      await keyed(db, 'users').insertOne({ _id: 1, email: 'a@x' });
    } finally {
      await firstClient.close();
      await first.stop();
    }

    for (let start = 0; start < 2; start += 1) {
      const server = await EmbeddedMongoServer.start({ dataDir });
      const client = await MongoClient.connect(`${server.uri}persist`);
      try {
        const db = client.db();
        await expect(keyed(db, 'users').insertOne({ _id: 10 + start })).rejects.toMatchObject({ code: 121 });
        await expect(keyed(db, 'scores').insertOne({ _id: 10 + start, score: 101 })).rejects.toMatchObject({
          code: 121,
        });
        await keyed(db, 'scores').insertOne({ _id: 20 + start, score: -5 });
        const [users] = await db.listCollections({ name: 'users' }, { nameOnly: false }).toArray();
        expect(users && 'options' in users ? users.options : undefined).toEqual({
          validator: { $jsonSchema: { required: ['email'] } },
        });
        expect(await keyed(db, 'users').countDocuments()).toBe(1);
      } finally {
        await client.close();
        await server.stop();
      }
    }
  });
});
