import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('command_fields');

function refused(command: Document) {
  return expect(suite.db.command(command)).rejects;
}

const unknownField = (path: string) => ({
  code: 40415,
  codeName: 'Location40415',
  message: `BSON field '${path}' is an unknown field.`,
});

describe('unknown command fields are refused with 40415, as mongod 7.0 does', () => {
  it('in each command family, at the top level', async () => {
    await suite.db.collection<{ _id: number }>('t').insertOne({ _id: 1 });
    const commands: Array<[Document, string]> = [
      [{ find: 't', bogusField: 1 }, 'find.bogusField'],
      [{ aggregate: 't', pipeline: [], cursor: {}, bogusField: 1 }, 'aggregate.bogusField'],
      [{ count: 't', bogusField: 1 }, 'count.bogusField'],
      [{ distinct: 't', key: 'a', bogusField: 1 }, 'distinct.bogusField'],
      [{ insert: 't', documents: [{}], bogusField: 1 }, 'insert.bogusField'],
      [{ update: 't', updates: [{ q: {}, u: {} }], bogusField: 1 }, 'update.bogusField'],
      [{ delete: 't', deletes: [{ q: {}, limit: 1 }], bogusField: 1 }, 'delete.bogusField'],
      [{ findAndModify: 't', remove: true, bogusField: 1 }, 'findAndModify.bogusField'],
      [{ create: 'fresh', bogusField: 1 }, 'create.bogusField'],
      [
        { createIndexes: 't', indexes: [{ key: { a: 1 }, name: 'a_1' }], bogusField: 1 },
        'createIndexes.bogusField',
      ],
      [{ listIndexes: 't', bogusField: 1 }, 'listIndexes.bogusField'],
      [{ listCollections: 1, bogusField: 1 }, 'listCollections.bogusField'],
      [{ dropIndexes: 't', index: '*', bogusField: 1 }, 'dropIndexes.bogusField'],
      [{ drop: 't', bogusField: 1 }, 'drop.bogusField'],
      [{ getMore: 1, collection: 't', bogusField: 1 }, 'getMore.bogusField'],
      [{ killCursors: 't', cursors: [], bogusField: 1 }, 'killCursors.bogusField'],
    ];
    for (const [command, path] of commands) await refused(command).toMatchObject(unknownField(path));
    expect(await suite.db.collection('t').countDocuments()).toBe(1);
    expect(await suite.db.listCollections({ name: 'fresh' }).toArray()).toEqual([]);
  });

  it('inside update and delete statements, cursor and collation documents', async () => {
    await refused({ update: 't', updates: [{ q: {}, u: { $set: { a: 1 } }, sort: { a: 1 } }] }).toMatchObject(
      unknownField('update.updates.sort'),
    );
    await refused({ delete: 't', deletes: [{ q: {}, limit: 0, multi: true }] }).toMatchObject(
      unknownField('delete.deletes.multi'),
    );
    await refused({ aggregate: 't', pipeline: [], cursor: { batchSize: 1, bogus: 1 } }).toMatchObject(
      unknownField('aggregate.cursor.bogus'),
    );
    await refused({ find: 't', collation: { locale: 'simple', bogus: 1 } }).toMatchObject(
      unknownField('collation.bogus'),
    );
    await refused({ update: 't', updates: [{ u: { $set: { a: 1 } } }] }).toMatchObject({
      code: 40414,
      message: "BSON field 'update.updates.q' is missing but a required field",
    });
    expect(await suite.db.collection<{ _id: number }>('t').findOne({ _id: 1 })).toEqual({ _id: 1 });
  });

  it('in writeConcern and readConcern', async () => {
    await refused({ insert: 't', documents: [{ _id: 2 }], writeConcern: { w: 1, bogus: 1 } }).toMatchObject(
      unknownField('writeConcern.bogus'),
    );
    await refused({ find: 't', readConcern: { level: 'bogus' } }).toMatchObject({
      code: 9,
      message:
        "readConcern.level must be either 'local', 'majority', 'linearizable', 'available', or 'snapshot'",
    });
    await refused({ find: 't', readConcern: { level: 'local', bogus: 1 } }).toMatchObject({
      code: 72,
      message: 'Unrecognized option in readConcern: bogus',
    });
    await refused({ insert: 't', documents: [{ _id: 2 }], writeConcern: { w: {} } }).toMatchObject({
      code: 9,
      message: 'w has to be a number or string',
    });
    expect(await suite.db.collection('t').countDocuments()).toBe(1);
  });
});

describe('field types follow the IDL (TypeMismatch 14)', () => {
  it('numbers, objects, booleans, strings and arrays', async () => {
    await refused({ find: 't', limit: 'ten' }).toMatchObject({
      code: 14,
      message:
        "BSON field 'find.limit' is the wrong type 'string', expected types '[long, int, decimal, double']'",
    });
    await refused({ find: 't', filter: 'x' }).toMatchObject({
      code: 14,
      message: "BSON field 'find.filter' is the wrong type 'string', expected type 'object'",
    });
    await refused({ find: 't', singleBatch: 1 }).toMatchObject({
      code: 14,
      message: "Field 'singleBatch' should be a boolean value, but found: int",
    });
    await refused({ insert: 't', documents: [{}], ordered: 'yes' }).toMatchObject({
      code: 14,
      message: "BSON field 'insert.ordered' is the wrong type 'string', expected type 'bool'",
    });
    await refused({ distinct: 't', key: 5 }).toMatchObject({
      code: 14,
      message: "BSON field 'distinct.key' is the wrong type 'int', expected type 'string'",
    });
    await refused({ update: 't', updates: { q: {}, u: {} } }).toMatchObject({
      code: 14,
      message: "BSON field 'update.updates' is the wrong type 'object', expected type 'array'",
    });
    await refused({ find: 't', hint: 1 }).toMatchObject({
      code: 9,
      message: 'Hint must be a string or an object',
    });
    await refused({ getMore: 1, collection: null }).toMatchObject({
      code: 40414,
      message: "BSON field 'getMore.collection' is missing but a required field",
    });
    await refused({ find: 't', collation: { locale: 'en', backwards: 1 } }).toMatchObject({
      code: 14,
      message: "Field 'backwards' should be a boolean value, but found: int",
    });
  });

  it("count's limit: any number, a negative one counted by its absolute value", async () => {
    await refused({ count: 't', limit: 'x' }).toMatchObject({
      code: 2,
      message: 'limit value is not a valid number',
    });
    const counted = suite.db.collection('counted');
    await counted.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    await expect(suite.db.command({ count: 'counted', limit: -3 })).resolves.toMatchObject({ n: 3 });
  });

  it('ranges and maxTimeMS', async () => {
    await refused({ find: 't', skip: -1 }).toMatchObject({
      code: 51024,
      message: "BSON field 'skip' value must be >= 0, actual value '-1'",
    });
    await refused({ find: 't', maxTimeMS: 'soon' }).toMatchObject({
      code: 2,
      message: 'maxTimeMS must be a number',
    });
    await refused({ insert: 't', documents: [{}], maxTimeMS: -5 }).toMatchObject({
      code: 2,
      message: 'maxTimeMS is out of range',
    });
  });

  it('getMore refuses maxTimeMS for a cursor that does not await data', async () => {
    const items = suite.db.collection('paged');
    await items.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const first = await suite.db.command({ find: 'paged', batchSize: 1 });
    const cursorId = (first.cursor as Document).id;
    await refused({ getMore: cursorId, collection: 'paged', maxTimeMS: 100 }).toMatchObject({
      code: 2,
      message: 'cannot set maxTimeMS on getMore command for a non-awaitData cursor',
    });
  });
});

describe('fields mongod honours but the embedded server does not emulate', () => {
  it('are refused with 115 rather than ignored, and accepted when off', async () => {
    await refused({ find: 't', showRecordId: true }).toMatchObject({
      code: 115,
      message: "BSON field 'find.showRecordId' is not supported by the embedded server",
    });
    await refused({ find: 't', min: { a: 1 } }).toMatchObject({ code: 115 });
    await refused({ update: 't', updates: [{ q: {}, u: {}, upsertSupplied: true }] }).toMatchObject({
      code: 115,
      message: "BSON field 'update.updates.upsertSupplied' is not supported by the embedded server",
    });
    await expect(
      suite.db.command({ find: 't', showRecordId: false, returnKey: false }),
    ).resolves.toMatchObject({
      ok: 1,
    });
  });
});

describe('what drivers and mongoose send keeps working', () => {
  it('create and collMod take generic arguments without keeping them as collection options', async () => {
    await suite.db.command({
      create: 'withGenerics',
      maxTimeMS: 5000,
      readConcern: { level: 'local' },
      comment: 'made by a test',
    });
    await suite.db.command({ collMod: 'withGenerics', validator: { a: { $exists: true } }, maxTimeMS: 5000 });
    const [described] = await suite.db
      .listCollections({ name: 'withGenerics' }, { nameOnly: false })
      .toArray();
    expect(described?.options).toEqual({ validator: { a: { $exists: true } } });
  });

  it('generic arguments on reads and writes', async () => {
    const items = suite.db.collection('generic');
    await items.insertOne(
      { a: 1 },
      { writeConcern: { w: 'majority', j: true, wtimeout: 1000 }, comment: 'c' },
    );
    await items.updateOne({ a: 1 }, { $set: { b: 2 } }, { writeConcern: { w: 1 }, hint: { _id: 1 } });
    expect(
      await items
        .find(
          { a: 1 },
          {
            readConcern: { level: 'majority' },
            maxTimeMS: 1000,
            comment: { why: 'test' },
            allowDiskUse: true,
          },
        )
        .toArray(),
    ).toEqual([expect.objectContaining({ a: 1, b: 2 })]);
    expect(await items.countDocuments({ a: 1 }, { maxTimeMS: 500, readConcern: { level: 'local' } })).toBe(1);
    expect(await items.distinct('a', {}, { readConcern: { level: 'available' } })).toEqual([1]);
    expect(
      await items
        .aggregate([{ $match: { a: 1 } }], { batchSize: 10, maxTimeMS: 1000, comment: 'agg' })
        .toArray(),
    ).toHaveLength(1);
    await items.findOneAndUpdate({ a: 1 }, { $inc: { b: 1 } }, { maxTimeMS: 1000, writeConcern: { w: 1 } });
    await items.deleteMany({ a: 1 }, { writeConcern: { w: 1 }, comment: 'bye' });
    expect(await items.estimatedDocumentCount()).toBe(0);
  });
});
