import type { Document } from 'bson';
import {
  MongoBulkWriteError,
  MongoClient,
  type AnyBulkWriteOperation,
  type CollationOptions,
  type Collection,
  type Db,
} from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  databaseUri,
  startTestDatabase,
  uniqueDatabaseName,
  type TestDatabase,
} from '../../tests/support/database.js';
import {
  conformanceAvailable,
  conformanceRoot,
  loadConformanceFiles,
  matchesExpected,
  skipReason,
  type ConformanceTest,
} from './support/conformance-vectors.js';

const COLLECTION = 'test';
const files = loadConformanceFiles();
const tally = { run: 0, passed: 0, collationRun: 0, collationPassed: 0, skipped: new Map<string, number>() };

let database: TestDatabase;
let client: MongoClient;
let db: Db;

/** The vector's collation as a driver option, when it names one. */
function collationOf(args: Document): { collation?: CollationOptions } {
  return args.collation ? { collation: args.collation as CollationOptions } : {};
}

/** Whether a vector names a collation, for its operation or one of its bulk requests. */
function usesCollation(test: ConformanceTest): boolean {
  return JSON.stringify(test.operation.arguments).includes('"collation"');
}

function bulkRequest(request: { name: string; arguments: Document }): AnyBulkWriteOperation {
  const args = request.arguments;
  switch (request.name) {
    case 'insertOne':
      return { insertOne: { document: args.document } };
    case 'deleteOne':
    case 'deleteMany':
      return { [request.name]: { filter: args.filter, ...collationOf(args) } } as AnyBulkWriteOperation;
    case 'replaceOne':
      return {
        replaceOne: {
          filter: args.filter,
          replacement: args.replacement,
          upsert: args.upsert,
          ...collationOf(args),
        },
      } as AnyBulkWriteOperation;
    case 'updateOne':
    case 'updateMany':
      return {
        [request.name]: {
          filter: args.filter,
          update: args.update,
          upsert: args.upsert,
          arrayFilters: args.arrayFilters,
          ...collationOf(args),
        },
      } as AnyBulkWriteOperation;
    default:
      throw new Error(`unknown bulk request ${request.name}`);
  }
}

async function runOperation(collection: Collection, test: ConformanceTest): Promise<unknown> {
  const { name, arguments: args } = test.operation;
  const collation = collationOf(args);
  const findAndModifyOptions = {
    ...collation,
    ...(args.projection ? { projection: args.projection } : {}),
    ...(args.sort ? { sort: args.sort } : {}),
    ...(args.upsert !== undefined ? { upsert: args.upsert } : {}),
    ...(args.arrayFilters ? { arrayFilters: args.arrayFilters } : {}),
    returnDocument: args.returnDocument === 'After' ? ('after' as const) : ('before' as const),
  };
  switch (name) {
    case 'aggregate':
      return collection
        .aggregate(args.pipeline, {
          ...collation,
          ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
        })
        .toArray();
    case 'count':
      return (
        await db.command({
          count: COLLECTION,
          query: args.filter ?? {},
          ...collation,
          ...(args.skip ? { skip: args.skip } : {}),
          ...(args.limit ? { limit: args.limit } : {}),
        })
      ).n;
    case 'countDocuments':
      return collection.countDocuments(args.filter, {
        ...collation,
        ...(args.skip ? { skip: args.skip } : {}),
        ...(args.limit ? { limit: args.limit } : {}),
      });
    case 'estimatedDocumentCount':
      return collection.estimatedDocumentCount();
    case 'distinct':
      return collection.distinct(args.fieldName, args.filter ?? {}, collation);
    case 'find':
      return collection
        .find(args.filter ?? {}, {
          sort: args.sort,
          skip: args.skip,
          limit: args.limit,
          batchSize: args.batchSize,
          ...collation,
        })
        .toArray();
    case 'bulkWrite':
      return collection.bulkWrite(
        (args.requests as Array<{ name: string; arguments: Document }>).map(bulkRequest),
        args.options,
      );
    case 'deleteMany':
      return collection.deleteMany(args.filter, collation);
    case 'deleteOne':
      return collection.deleteOne(args.filter, collation);
    case 'findOneAndDelete':
      return collection.findOneAndDelete(args.filter, findAndModifyOptions);
    case 'findOneAndReplace':
      return collection.findOneAndReplace(args.filter, args.replacement, findAndModifyOptions);
    case 'findOneAndUpdate':
      return collection.findOneAndUpdate(args.filter, args.update, findAndModifyOptions);
    case 'insertMany':
      return collection.insertMany(args.documents, args.options);
    case 'insertOne':
      return collection.insertOne(args.document);
    case 'replaceOne':
      return collection.replaceOne(args.filter, args.replacement, {
        ...collation,
        ...(args.upsert !== undefined ? { upsert: args.upsert } : {}),
      });
    case 'updateMany':
    case 'updateOne':
      return collection[name](args.filter, args.update, {
        ...collation,
        ...(args.upsert !== undefined ? { upsert: args.upsert } : {}),
        ...(args.arrayFilters ? { arrayFilters: args.arrayFilters } : {}),
      });
    default:
      throw new Error(`conformance runner does not know operation ${name}`);
  }
}

beforeAll(async () => {
  database = await startTestDatabase();
  client = await MongoClient.connect(databaseUri(database, uniqueDatabaseName('crud_spec')));
  db = client.db();
});

afterAll(async () => {
  await client?.close();
  await database?.stop();
  if (!conformanceAvailable) {
    console.log(
      `MongoDB CRUD conformance vectors not found at ${conformanceRoot}: none run (set CONFORMANCE_DIR or check out ../shared beside the repository)`,
    );
    return;
  }
  const skipped = [...tally.skipped.entries()].map(([reason, count]) => `${count} × ${reason}`).join('; ');
  console.log(
    `MongoDB CRUD conformance vectors (${database?.kind} server): ${tally.passed} of ${tally.run} run vectors matched (collation: ${tally.collationPassed} of ${tally.collationRun}); skipped ${[...tally.skipped.values()].reduce((a, b) => a + b, 0)}${skipped ? ` (${skipped})` : ''}`,
  );
});

// Without the vectors beside the checkout the suite is reported as skipped, with the place it looked.
describe.skipIf(!conformanceAvailable)(
  `embedded server: MongoDB CRUD specification vectors (legacy v1)${conformanceAvailable ? '' : ` — not found at ${conformanceRoot}`}`,
  () => {
    beforeEach(async () => {
      await db.dropDatabase();
    });

    it('loads the read and write vector files', () => {
      expect(files.map((file) => file.file.split('/')[0])).toEqual(expect.arrayContaining(['read', 'write']));
    });

    for (const file of files) {
      describe(file.file, () => {
        for (const test of file.tests) {
          const reason = skipReason(file.file, test);
          if (reason) {
            tally.skipped.set(reason, (tally.skipped.get(reason) ?? 0) + 1);
            it.skip(`${test.description} — skipped: ${reason}`, () => {});
            continue;
          }
          it(test.description, async () => {
            tally.run += 1;
            if (usesCollation(test)) tally.collationRun += 1;
            const collection = db.collection(COLLECTION);
            if (file.data.length > 0) await collection.insertMany(file.data);
            let result: unknown;
            let failed: unknown;
            try {
              result = await runOperation(collection, test);
            } catch (error) {
              failed = error;
              result = error instanceof MongoBulkWriteError ? error.result : undefined;
            }
            if (test.outcome.error) expect(failed, 'the operation should fail').toBeDefined();
            else if (failed) throw failed;
            if (test.outcome.result !== undefined) {
              expect(
                matchesExpected(test.outcome.result, result),
                `result ${JSON.stringify(result)} vs expected ${JSON.stringify(test.outcome.result)}`,
              ).toBe(true);
            }
            if (test.outcome.collection) {
              const actual = await db
                .collection(test.outcome.collection.name ?? COLLECTION)
                .find({})
                .sort({ _id: 1 })
                .toArray();
              expect(
                matchesExpected(test.outcome.collection.data, actual),
                `collection ${JSON.stringify(actual)} vs expected ${JSON.stringify(test.outcome.collection.data)}`,
              ).toBe(true);
            }
            tally.passed += 1;
            if (usesCollation(test)) tally.collationPassed += 1;
          });
        }
      });
    }
  },
);
