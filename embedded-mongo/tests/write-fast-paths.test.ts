import { Decimal128, Double, EJSON, Int32, Long, ObjectId, type Document } from 'bson';
import { describe, expect, it } from 'vitest';

import { useDriverDatabase } from '../../tests/support/database.js';

const suite = useDriverDatabase('write_fast_paths');

/** Documents with numeric (or string, or ObjectId) `_id`s. */
type Row = { _id: number | string | ObjectId } & Document;
const collection = (name: string) => suite.db.collection<Row>(name);

const base = Date.UTC(2026, 2, 28, 12);

/** Documents with the shapes that decide the edge cases: every numeric type, nulls, missing fields, arrays, nesting. */
function documents(): Row[] {
  return Array.from({ length: 24 }, (_, index) => ({
    _id: index,
    status: index % 7 === 3 ? ['queued', 'held'] : ['queued', 'running', null][index % 3],
    ...(index % 5 === 0 ? {} : { n: [new Int32(5), Long.fromNumber(5), new Double(5), 2.5][index % 4] }),
    big: index % 2 === 0 ? new Int32(2_147_483_647) : Long.fromString('9223372036854775807'),
    dec: Decimal128.fromString('1.50'),
    prompt: `prompt ${index}`,
    nested: { a: index, list: [1, 2, { b: index }] },
    createdAt:
      index % 11 === 4 ? [new Date(base + index), new Date(base)] : new Date(base + (index % 6) * 1000),
  }));
}

/** Simple updates (the native path) and those that must go to the engine, as pairs to compare both ways. */
const updates: Document[] = [
  { $set: { status: 'running', lease: 'worker-1' } },
  { $set: { n: Long.fromNumber(5) } },
  { $set: { n: new Double(5) } },
  { $set: { n: new Int32(5), prompt: 'prompt 3' } },
  { $set: { nested: { a: 1, list: [1, { c: null }] }, zeta: 1, alpha: 2 } },
  { $set: { createdAt: new Date(base) } },
  { $unset: { prompt: '', missing: '' } },
  { $inc: { n: new Int32(1) } },
  { $inc: { n: Long.fromNumber(1) } },
  { $inc: { n: new Double(0.5) } },
  { $inc: { n: Decimal128.fromString('1.0'), dec: Decimal128.fromString('0.50') } },
  { $inc: { big: new Int32(1), fresh: new Int32(2) } },
  { $inc: { prompt: new Int32(1) } },
  {
    $set: { status: 'running' },
    $inc: { version: new Int32(1), attempts: Long.fromNumber(1) },
    $unset: { n: '' },
  },
  { $unset: { nested: '' }, $set: { z: true } },
  { $set: { 'nested.a': 0 } },
  { $set: { constructor: 1 } },
  { $set: { a: 1 }, $inc: { a: new Int32(1) } },
  { $set: {} },
  // Dotted paths through embedded documents, made on the way when missing.
  { $inc: { 'nested.a': new Int32(1), 'nested.fresh.deep': Long.fromNumber(2) } },
  { $set: { 'made.x': 1, 'made.y': { z: 2 } }, $unset: { 'nested.a': '', 'gone.x': '' } },
  {
    $inc: { 'counts.kqueued': new Int32(1), 'counts.kdone': new Int32(-1) },
    $max: { 'times.last': new Date(base) },
    $setOnInsert: { span: 'day' },
  },
  // Paths the engine takes: through a string, an array, null or an array index; overlapping paths.
  { $inc: { 'prompt.x': new Int32(1) } },
  { $set: { 'nested.list.2.b': 5 } },
  { $set: { 'status.x': 1 } },
  { $set: { 'nested.0': 1 } },
  { $inc: { 'nested.a': new Int32(1) }, $set: { nested: {} } },
  { $set: { 'nested.a': 1, 'nested.a.b': 2 } },
  { $set: { '_id.x': 1 } },
  // $max and $min: missing fields, every numeric type, dates beside arrays of dates, strings.
  { $max: { createdAt: new Date(base + 3000), 'nested.a': 10 } },
  { $min: { n: new Int32(3), missingMin: 7, 'nested.a': new Double(2) } },
  { $max: { n: Decimal128.fromString('5.0'), prompt: 'prompt 5', big: Long.fromNumber(1) } },
  { $min: { createdAt: new Date(base + 2000), status: 'r', dec: new Double(1.5) } },
  { $max: { n: new Int32(1) }, $inc: { n: new Int32(1) } },
];

/** Every document with its exact types, in _id order. */
async function contents(name: string): Promise<string[]> {
  const docs = await collection(name).find({}, { promoteValues: false }).sort({ _id: 1 }).toArray();
  return docs.map((doc) => EJSON.stringify(doc, { relaxed: false }));
}

async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { result: await run() };
  } catch (error) {
    return { code: (error as { code?: unknown }).code };
  }
}

describe('native update and claim paths', () => {
  it('update documents exactly as the general engine', async () => {
    for (const [position, update] of updates.entries()) {
      const native = collection(`native_${position}`);
      const engine = collection(`engine_${position}`);
      await native.insertMany(documents());
      await engine.insertMany(documents());
      // An (empty) arrayFilters list sends the statement through the general engine.
      const nativeResult = await outcome(() => native.updateMany({}, update));
      const engineResult = await outcome(() => engine.updateMany({}, update, { arrayFilters: [] }));
      const label = EJSON.stringify(update);
      expect(nativeResult, label).toEqual(engineResult);
      expect(await contents(native.collectionName), label).toEqual(await contents(engine.collectionName));
      // One document at a time, as findAndModify does it.
      const nativeOne = await outcome(() =>
        native.findOneAndUpdate({ _id: 2 }, update, { returnDocument: 'after', promoteValues: false }),
      );
      const engineOne = await outcome(() =>
        engine.findOneAndUpdate({ _id: 2 }, update, {
          returnDocument: 'after',
          promoteValues: false,
          arrayFilters: [],
        }),
      );
      expect(EJSON.stringify(nativeOne, { relaxed: false }), label).toBe(
        EJSON.stringify(engineOne, { relaxed: false }),
      );
    }
  });

  it('upsert with $setOnInsert exactly as the general engine', async () => {
    const update = {
      $set: { status: 'queued' },
      $setOnInsert: { createdAt: new Date(base), n: new Int32(1) },
    };
    const native = collection('upsert_native');
    const engine = collection('upsert_engine');
    await native.updateOne({ _id: 'a', kind: 'x' }, update, { upsert: true });
    await engine.updateOne({ _id: 'a', kind: 'x' }, update, { upsert: true, arrayFilters: [] });
    await native.updateOne({ _id: 'a' }, update, { upsert: true });
    await engine.updateOne({ _id: 'a' }, update, { upsert: true, arrayFilters: [] });
    expect(await contents('upsert_native')).toEqual(await contents('upsert_engine'));
  });

  it('claims queued documents in the order the general engine picks', async () => {
    const native = collection('claims_native');
    const engine = collection('claims_engine');
    for (const collection of [native, engine]) {
      await collection.insertMany(documents());
      await collection.createIndex({ status: 1 });
    }
    const claimOrder = async (filter: Document, sort: Document): Promise<unknown[]> => {
      const claimed: unknown[] = [];
      for (const collection of [native, engine]) {
        const order: unknown[] = [];
        const filterUsed = collection === engine ? { $and: [filter, { $expr: true }] } : filter;
        // Every claim takes a document out of the filter: more claims than documents would be a loop.
        for (let attempt = 0; attempt <= 30; attempt += 1) {
          const doc = await collection.findOneAndUpdate(
            filterUsed,
            { $set: { status: 'running' }, $inc: { attempts: 1 } },
            { sort, returnDocument: 'after' },
          );
          if (!doc) break;
          order.push(doc._id);
        }
        claimed.push(order);
      }
      return claimed;
    };
    // Orders without ties: the general engine's path reads the documents in another order, which would
    // decide ties differently (MongoDB leaves their order open).
    for (const sort of [
      { createdAt: 1, _id: 1 },
      { createdAt: -1, _id: 1 },
      { n: 1, createdAt: 1, _id: -1 },
    ]) {
      await native.updateMany({ status: 'running' }, { $set: { status: 'queued' } });
      await engine.updateMany({ status: 'running' }, { $set: { status: 'queued' } });
      const [nativeOrder, engineOrder] = await claimOrder({ status: 'queued' }, sort);
      expect(nativeOrder, JSON.stringify(sort)).toEqual(engineOrder);
      expect((nativeOrder as unknown[]).length).toBeGreaterThan(0);
    }
    expect(await contents('claims_native')).toEqual(await contents('claims_engine'));
    // A filter whose field holds an array in some documents, and one the native test cannot take.
    const id = new ObjectId();
    for (const collection of [native, engine])
      await collection.insertOne({ _id: id, status: ['x', 'queued'] });
    const [arrayNative, arrayEngine] = await claimOrder({ status: 'queued' }, { createdAt: 1, _id: 1 });
    expect(arrayNative).toEqual(arrayEngine);
    expect(arrayNative).toContainEqual(id);
    const [regexNative, regexEngine] = await claimOrder(
      { prompt: /^prompt 1/, status: { $ne: 'running' } },
      { _id: -1 },
    );
    expect(regexNative).toEqual(regexEngine);
  });

  it('never take a regular expression or an empty document for a condition that holds for everything', async () => {
    const texts = collection('regex_filters');
    await texts.createIndex({ at: 1 });
    await texts.insertMany([
      { _id: 1, p: 'prompt 1', at: 3, o: {} },
      { _id: 2, p: 'other', at: 2, o: { a: 1 } },
      { _id: 3, p: 'prompt 12', at: 1, o: {} },
    ]);
    const regex = { p: /^prompt 1/ };
    expect((await texts.find(regex).toArray()).map((doc) => doc._id)).toEqual([1, 3]);
    expect((await texts.find(regex).sort({ at: 1 }).limit(5).toArray()).map((doc) => doc._id)).toEqual([
      3, 1,
    ]);
    expect(await texts.countDocuments({ p: { $in: [/^other/, 'none'] } })).toBe(1);
    expect(await texts.countDocuments({ o: {} })).toBe(2);
    expect((await texts.updateMany(regex, { $set: { seen: true } })).matchedCount).toBe(2);
    const claimed = await texts.findOneAndUpdate(
      { p: /^oth/ },
      { $set: { p: 'claimed' } },
      { sort: { at: -1 }, returnDocument: 'after' },
    );
    expect(claimed?._id).toBe(2);
    expect((await texts.deleteMany({ o: {} })).deletedCount).toBe(2);
    expect(await texts.countDocuments({})).toBe(1);
  });
});

describe('update paths mongod refuses', () => {
  it('are refused with ConflictingUpdateOperators (40) before any document is read, as mongod parses them', async () => {
    const rows = collection('path_conflicts');
    await rows.insertOne({ _id: 1, a: 1, nested: { a: 1 } });
    const conflicts: Array<[Document, string]> = [
      [{ $set: { a: 1 }, $inc: { a: new Int32(1) } }, "Updating the path 'a' would create a conflict at 'a'"],
      [
        { $set: { 'nested.a': 1, 'nested.a.b': 2 } },
        "Updating the path 'nested.a.b' would create a conflict at 'nested.a'",
      ],
      [
        { $inc: { 'nested.a': new Int32(1) }, $set: { nested: {} } },
        "Updating the path 'nested' would create a conflict at 'nested'",
      ],
      // $setOnInsert takes part even when nothing is inserted.
      [{ $set: { x: 1 }, $setOnInsert: { x: 2 } }, "Updating the path 'x' would create a conflict at 'x'"],
    ];
    for (const [update, message] of conflicts) {
      const label = EJSON.stringify(update);
      // A filter nothing matches: the update is refused all the same.
      expect(await outcome(() => rows.updateOne({ _id: 99 }, update)), label).toEqual({ code: 40 });
      await expect(rows.updateOne({ _id: 1 }, update), label).rejects.toThrow(message);
      expect(await outcome(() => rows.findOneAndUpdate({ _id: 1 }, update)), label).toEqual({ code: 40 });
    }
    expect(await rows.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1, nested: { a: 1 } });
    // Paths that only share a beginning of their names do not collide.
    await rows.updateOne(
      { _id: 1 },
      { $set: { 'nested.a': 2, 'nested.ab': 3, ab: 4 }, $inc: { a: new Int32(1) } },
    );
    expect(await rows.findOne({ _id: 1 })).toEqual({ _id: 1, a: 2, ab: 4, nested: { a: 2, ab: 3 } });
  });

  it('through a value that cannot hold a field: PathNotViable (28), and nothing changes', async () => {
    const rows = collection('path_viability');
    const original = { _id: 1, s: 'str', n: 5, z: null, arr: [1, { b: 2 }], o: { p: 1 } };
    await rows.insertOne(original);
    const refused: Array<[Document, string]> = [
      [{ $set: { 's.x': 1 } }, 'Cannot create field \'x\' in element {s: "str"}'],
      [{ $set: { 'n.x': 1 } }, "Cannot create field 'x' in element {n: 5}"],
      [{ $inc: { 'z.x': new Int32(1) } }, "Cannot create field 'x' in element {z: null}"],
      [{ $set: { 'arr.x': 1 } }, "Cannot create field 'x' in element {arr: [ 1, { b: 2 } ]}"],
      [{ $set: { 'arr.0.x': 1 } }, "Cannot create field 'x' in element {0: 1}"],
      [{ $max: { 'o.p.q': 1 } }, "Cannot create field 'q' in element {p: 1}"],
      [{ $push: { 's.x': 1 } }, 'Cannot create field \'x\' in element {s: "str"}'],
    ];
    for (const [update, message] of refused) {
      const label = EJSON.stringify(update);
      expect(await outcome(() => rows.updateOne({ _id: 1 }, update)), label).toEqual({ code: 28 });
      await expect(rows.findOneAndUpdate({ _id: 1 }, update), label).rejects.toThrow(message);
    }
    expect(await rows.findOne({ _id: 1 })).toEqual(original);
    // Paths that can be made: into an array element that is a document, past an array's end, a new
    // embedded document; $unset makes nothing, so it passes over a string.
    await rows.updateOne(
      { _id: 1 },
      { $set: { 'arr.1.c': 3, 'arr.3': 'x', 'o.r.s': 1 }, $unset: { 's.x': '' } },
    );
    expect(await rows.findOne({ _id: 1 })).toEqual({
      ...original,
      arr: [1, { b: 2, c: 3 }, null, 'x'],
      o: { p: 1, r: { s: 1 } },
    });
  });

  it('are checked in the order mongod parses them, before any document is read', async () => {
    const rows = collection('parse_order');
    await rows.insertOne({ _id: 1, a: 1, s: 'x' });
    const refused: Array<[Document, number, string]> = [
      [{ $foo: {}, $set: { a: 1, 'a.b': 1 } }, 9, 'Unknown modifier: $foo'],
      [{ $set: { x: 1 }, $inc: 5 }, 9, 'Modifiers operate on fields but we found type int instead'],
      [{ $inc: { 's.x': 'y' } }, 14, 'Cannot increment with non-numeric argument: {s.x: "y"}'],
      [{ $mul: { a: null } }, 14, 'Cannot multiply with non-numeric argument: {a: null}'],
      [
        { $set: { 'a..b': 1 } },
        56,
        "The update path 'a..b' contains an empty field name, which is not allowed.",
      ],
      [
        { $unset: { 'a.': '' } },
        56,
        "The update path 'a.' contains an empty field name, which is not allowed.",
      ],
      [{ $set: { '': 1 } }, 56, 'An empty update path is not valid.'],
      [{ $rename: { a: 'b' }, $set: { b: 2 } }, 40, "Updating the path 'b' would create a conflict at 'b'"],
      [{ $rename: { a: 'b', b: 'c' } }, 40, "Updating the path 'b' would create a conflict at 'b'"],
      [{ $rename: { a: 1 } }, 2, "The 'to' field for $rename must be a string: a: 1"],
    ];
    for (const [update, code, message] of refused) {
      const label = EJSON.stringify(update);
      expect(await outcome(() => rows.updateOne({ _id: 99 }, update)), label).toEqual({ code });
      await expect(rows.updateOne({ _id: 1 }, update), label).rejects.toThrow(message);
    }
    // A rename into a field inside a string is refused (28) and moves nothing.
    await expect(rows.updateOne({ _id: 1 }, { $rename: { a: 's.b' } })).rejects.toThrow(
      `Cannot create field 'b' in element {s: "x"}`,
    );
    expect(await rows.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1, s: 'x' });
  });

  it('treat names of Object.prototype properties as any other field name', async () => {
    const rows = collection('prototype_names');
    await rows.insertOne({ _id: 1, a: {} });
    await rows.updateOne(
      { _id: 1 },
      { $set: { 'constructor.x': 1, 'a.hasOwnProperty.y': 2, 'toString.z': 3 } },
    );
    await rows.updateOne({ _id: 1 }, { $inc: { valueOf: new Int32(2) }, $max: { 'a.isPrototypeOf': 'x' } });
    expect(await rows.findOne({ _id: 1 })).toEqual({
      _id: 1,
      a: { hasOwnProperty: { y: 2 }, isPrototypeOf: 'x' },
      constructor: { x: 1 },
      toString: { z: 3 },
      valueOf: 2,
    });
  });
});
