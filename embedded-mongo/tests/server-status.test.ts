import { MongoClient, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { EmbeddedMongoServer } from '../src/index.js';

type Counters = Record<'insert' | 'query' | 'update' | 'delete' | 'getmore' | 'command', number>;

type CommandCounts = Record<string, { total: number; failed: number }>;

async function counters(client: MongoClient): Promise<Counters> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  return status.opcounters as Counters;
}

async function commandCounts(client: MongoClient): Promise<CommandCounts> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  return status.metrics.commands as CommandCounts;
}

function difference(after: Counters, before: Counters): Counters {
  const keys = Object.keys(after) as Array<keyof Counters>;
  return Object.fromEntries(keys.map((key) => [key, after[key] - before[key]])) as Counters;
}

describe('serverStatus', () => {
  it('counts operations as mongod does: documents, statements, finds, getMores and other commands', async () => {
    // A server of its own: other test files' operations would count on a shared one.
    const server = await EmbeddedMongoServer.start({});
    const client = await MongoClient.connect(`${server.uri}status`);
    try {
      const items = client.db().collection<Document>('items');
      const before = await counters(client);
      await items.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
      await items.insertOne({ n: 4 });
      await items.find({}, { batchSize: 1 }).toArray();
      await items.updateOne({ n: 1 }, { $set: { seen: true } });
      await items.bulkWrite([
        { updateOne: { filter: { n: 2 }, update: { $set: { seen: true } } } },
        { updateMany: { filter: { n: { $gt: 2 } }, update: { $inc: { n: 10 } } } },
        { deleteOne: { filter: { n: 14 } } },
      ]);
      await items.findOneAndUpdate({ n: 1 }, { $set: { claimed: true } });
      await items.countDocuments({ seen: true });
      await items.deleteOne({ missing: true });
      // Bad commands are counted as they arrive, and as failed.
      await expect(client.db().command({ noSuchCommand: 1 })).rejects.toThrow(/no such command/);
      await expect(items.find({ $bad: 1 }).toArray()).rejects.toThrow(/unknown top level operator/);
      const counted = difference(await counters(client), before);

      expect(counted).toMatchObject({ insert: 4, query: 2, update: 3, delete: 2 });
      expect(counted.getmore).toBeGreaterThanOrEqual(2);
      // findAndModify, the count's aggregate, the bad command and this serverStatus, plus the driver's
      // monitoring hellos meanwhile.
      expect(counted.command).toBeGreaterThanOrEqual(4);
      // Per command, as round trips: one insert command per insertMany, one update per bulk run of updates.
      expect(await commandCounts(client)).toMatchObject({
        insert: { total: 2, failed: 0 },
        find: { total: 2, failed: 1 },
        update: { total: 2, failed: 0 },
        delete: { total: 2, failed: 0 },
        findAndModify: { total: 1, failed: 0 },
        aggregate: { total: 1, failed: 0 },
        '<UNKNOWN>': { total: 1, failed: 1 },
      });
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('describes the process and its connections', async () => {
    const server = await EmbeddedMongoServer.start({});
    const clients = await Promise.all([1, 2].map(() => MongoClient.connect(server.uri)));
    try {
      const status = await (clients[0] as MongoClient).db('admin').command({ serverStatus: 1 });
      expect(status).toMatchObject({ ok: 1, process: 'mongod', version: '7.0.0', pid: process.pid });
      expect(status.host).toMatch(new RegExp(`:${server.port}$`));
      expect(status.uptimeMillis).toBeGreaterThanOrEqual(0);
      expect(status.localTime).toBeInstanceOf(Date);
      // Each client holds a monitoring connection and one for its commands.
      expect(status.connections.current).toBeGreaterThanOrEqual(2);
      expect(status.connections.totalCreated).toBeGreaterThanOrEqual(status.connections.current);
      expect(status.connections.available + status.connections.current).toBe(65_536);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await server.stop();
    }
  });
});
