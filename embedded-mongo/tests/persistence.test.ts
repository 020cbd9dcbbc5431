import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';

import { runTypeScript } from '../../tests/support/process.js';
import { EmbeddedMongoServer } from '../src/index.js';

const CLI = 'embedded-mongo/src/cli.ts';

function freshDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'gen3d-embedded-'));
}

async function withClient<T>(uri: string, run: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = await MongoClient.connect(`${uri}persist`);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

async function startCli(
  dataDir: string,
): Promise<{ uri: string; process: ReturnType<typeof runTypeScript> }> {
  const child = runTypeScript(CLI, { DATA_DIR: dataDir, EMBEDDED_DB_PORT: '0' });
  const line = await child.waitForLine((candidate) => candidate.includes('listening at mongodb://'));
  return { uri: (/mongodb:\/\/\S+/.exec(line) as RegExpExecArray)[0], process: child };
}

describe('embedded server persistence (DATA_DIR)', () => {
  it('keeps documents, collections and indexes across a restart', async () => {
    const dataDir = freshDataDir();
    const first = await EmbeddedMongoServer.start({ dataDir });
    await withClient(first.uri, async (client) => {
      const users = client.db().collection('users');
      await users.createIndex({ email: 1 }, { unique: true });
      await users.insertMany([{ email: 'a@x' }, { email: 'b@x' }]);
      await users.updateOne({ email: 'a@x' }, { $set: { name: 'Ada' } });
      await users.deleteOne({ email: 'b@x' });
      await client.db().collection('empty').insertOne({ gone: true });
      await client.db().collection('empty').drop();
    });
    await first.stop();

    const second = await EmbeddedMongoServer.start({ dataDir });
    await withClient(second.uri, async (client) => {
      const users = client.db().collection('users');
      expect(await users.find({}, { projection: { _id: 0 } }).toArray()).toEqual([
        { email: 'a@x', name: 'Ada' },
      ]);
      expect((await users.listIndexes().toArray()).map((index) => index.name)).toEqual(['_id_', 'email_1']);
      await expect(users.insertOne({ email: 'a@x' })).rejects.toMatchObject({ code: 11000 });
      expect((await client.db().listCollections().toArray()).map((collection) => collection.name)).toEqual([
        'users',
      ]);
    });
    await second.stop();
  });

  it('compacts the journal into a snapshot without losing anything', async () => {
    const dataDir = freshDataDir();
    const first = await EmbeddedMongoServer.start({ dataDir, compactAfterBytes: 16 * 1024 });
    await withClient(first.uri, async (client) => {
      const items = client.db().collection('items');
      for (let batch = 0; batch < 20; batch += 1) {
        await items.insertMany(
          Array.from({ length: 25 }, (_, index) => ({ batch, index, text: 'x'.repeat(40) })),
        );
      }
      await items.updateMany({ batch: { $lt: 10 } }, { $set: { early: true } });
    });
    await first.stop();
    const journals = readdirSync(dataDir).filter((name) => name.startsWith('journal.'));
    expect(journals).toHaveLength(1);

    const second = await EmbeddedMongoServer.start({ dataDir });
    await withClient(second.uri, async (client) => {
      const items = client.db().collection('items');
      expect(await items.countDocuments()).toBe(500);
      expect(await items.countDocuments({ early: true })).toBe(250);
    });
    await second.stop();
  });

  it('loses no acknowledged write when the process is killed, even with a torn write at the end of the journal', async () => {
    const dataDir = freshDataDir();
    const running = await startCli(dataDir);
    const acknowledged = await withClient(running.uri, async (client) => {
      const events = client.db().collection('events');
      await events.createIndex({ seq: 1 }, { unique: true });
      for (let seq = 0; seq < 50; seq += 1) await events.insertOne({ seq });
      await events.insertMany(Array.from({ length: 200 }, (_, index) => ({ seq: 50 + index })));
      await events.updateOne({ seq: 0 }, { $set: { first: true } });
      return 250;
    });
    running.process.child.kill('SIGKILL');
    await running.process.exited;

    // The CLI keeps its files in DATA_DIR/db, as the one-command start does.
    const files = join(dataDir, 'db');
    const journal = readdirSync(files).find((name) => name.startsWith('journal.')) as string;
    // The start of a frame whose body never reached the disk.
    appendFileSync(join(files, journal), Buffer.from([0xff, 0x00, 0x00, 0x00, 0x12, 0x34]));

    const restarted = await startCli(dataDir);
    await withClient(restarted.uri, async (client) => {
      const events = client.db().collection('events');
      expect(await events.countDocuments()).toBe(acknowledged);
      expect(await events.findOne({ seq: 0 })).toMatchObject({ first: true });
      await expect(events.insertOne({ seq: 7 })).rejects.toMatchObject({ code: 11000 });
      await events.insertOne({ seq: 1000 });
    });
    restarted.process.child.kill('SIGTERM');
    expect((await restarted.process.exited).code).toBe(0);
  });

  it('restarts with more documents than a function call takes arguments (200,000)', async () => {
    const dataDir = freshDataDir();
    const documents = 200_000;
    const first = await EmbeddedMongoServer.start({ dataDir });
    await withClient(first.uri, async (client) => {
      const items = client.db().collection('items');
      for (let start = 0; start < documents; start += 20_000)
        await items.insertMany(Array.from({ length: 20_000 }, (_, index) => ({ n: start + index })));
    });
    await first.stop();

    const second = await EmbeddedMongoServer.start({ dataDir });
    try {
      await withClient(second.uri, async (client) => {
        expect(await client.db().collection('items').countDocuments({})).toBe(documents);
      });
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('loses no acknowledged write of many concurrent writers when killed while their fsyncs are in flight', async () => {
    const dataDir = freshDataDir();
    const running = await startCli(dataDir);
    const inserted: number[] = [];
    const updated: number[] = [];
    const client = await MongoClient.connect(`${running.uri}persist`, {
      maxPoolSize: 16,
      retryWrites: false,
    });
    const events = client.db().collection('events');
    await events.createIndex({ seq: 1 }, { unique: true });
    let killed: Promise<unknown> | undefined;
    // Writers share the journal's fsyncs (group commit); the process is killed once 400 writes are
    // acknowledged, while the others are still waiting for theirs.
    const writer = async (first: number): Promise<void> => {
      for (let seq = first; ; seq += 16) {
        try {
          await events.insertOne({ seq });
          inserted.push(seq);
          if (seq % 3 === 0) {
            await events.updateOne({ seq }, { $set: { claimed: true }, $inc: { version: 1 } });
            updated.push(seq);
          }
        } catch {
          return;
        }
        if (!killed && inserted.length + updated.length >= 400) {
          running.process.child.kill('SIGKILL');
          killed = running.process.exited;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, index) => writer(index)));
    await killed;
    await client.close();

    const restarted = await startCli(dataDir);
    await withClient(restarted.uri, async (again) => {
      const stored = again.db().collection('events');
      const seqs = new Set((await stored.find({}).toArray()).map((doc) => doc.seq as number));
      expect(inserted.filter((seq) => !seqs.has(seq))).toEqual([]);
      const claimed = new Set(
        (await stored.find({ claimed: true, version: 1 }).toArray()).map((doc) => doc.seq as number),
      );
      expect(updated.filter((seq) => !claimed.has(seq))).toEqual([]);
      expect(inserted.length + updated.length).toBeGreaterThanOrEqual(400);
    });
    restarted.process.child.kill('SIGTERM');
    expect((await restarted.process.exited).code).toBe(0);
  });

  it('refuses a second server on a data directory that is in use', async () => {
    const dataDir = freshDataDir();
    const first = await EmbeddedMongoServer.start({ dataDir: join(dataDir, 'db') });
    try {
      const second = runTypeScript(CLI, { DATA_DIR: dataDir, EMBEDDED_DB_PORT: '0' });
      expect((await second.exited).code).not.toBe(0);
      expect(second.stderr()).toMatch(/in use by another embedded database/);
    } finally {
      await first.stop();
    }
  });
});
