import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient, MongoNetworkError, MongoWriteConcernError, type Db, type Document } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { runTypeScript } from '../../tests/support/process.js';
import { EmbeddedMongoServer } from '../src/index.js';

const CLI = 'embedded-mongo/src/cli.ts';

function configureFailCommand(client: MongoClient, mode: unknown, data: Document = {}): Promise<Document> {
  return client.db('admin').command({ configureFailPoint: 'failCommand', mode, data });
}

describe('configureFailPoint without test commands', () => {
  it('is refused as mongod refuses it (no such command, 59), as is waitForFailPoint', async () => {
    const server = await EmbeddedMongoServer.start({});
    const client = await MongoClient.connect(server.uri);
    try {
      await expect(
        client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'alwaysOn' }),
      ).rejects.toMatchObject({
        code: 59,
        codeName: 'CommandNotFound',
        message: "no such command: 'configureFailPoint'",
      });
      await expect(
        client.db('admin').command({ waitForFailPoint: 'failCommand', timesEntered: 1, maxTimeMS: 1000 }),
      ).rejects.toMatchObject({ code: 59 });
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe('failCommand fail point (enableTestCommands)', () => {
  let server: EmbeddedMongoServer;
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    server = await EmbeddedMongoServer.start({ enableTestCommands: true });
    client = await MongoClient.connect(server.uri, { retryReads: false, retryWrites: false });
    db = client.db('faults');
  });
  afterEach(async () => {
    await configureFailCommand(client, 'off');
  });
  afterAll(async () => {
    await client.close();
    await server.stop();
  });

  it('only runs on the admin database and only knows failCommand', async () => {
    await expect(db.command({ configureFailPoint: 'failCommand', mode: 'off' })).rejects.toMatchObject({
      code: 13,
      codeName: 'Unauthorized',
      message: 'configureFailPoint may only be run against the admin database.',
    });
    await expect(configureFailCommandNamed(client, 'noSuchFailPoint')).rejects.toMatchObject({
      code: 111,
      codeName: 'FailPointSetFailed',
      message: 'noSuchFailPoint not found',
    });
  });

  it('refuses bad modes and data as FailPoint::parseBSON does', async () => {
    const admin = client.db('admin');
    await expect(admin.command({ configureFailPoint: 'failCommand' })).rejects.toMatchObject({ code: 20 });
    await expect(configureFailCommand(client, 'sometimes')).rejects.toMatchObject({
      code: 2,
      message: 'unknown mode: sometimes',
    });
    await expect(configureFailCommand(client, 5)).rejects.toMatchObject({ code: 14 });
    await expect(configureFailCommand(client, { times: -1 })).rejects.toMatchObject({
      code: 2,
      message: "'times' option to 'mode' must be positive",
    });
    await expect(configureFailCommand(client, { skip: 2 ** 31 })).rejects.toMatchObject({ code: 2 });
    await expect(configureFailCommand(client, { often: 1 })).rejects.toMatchObject({ code: 2 });
    await expect(
      admin.command({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: 'find' }),
    ).rejects.toMatchObject({ code: 14 });
  });

  it('fails the listed commands with errorCode (alwaysOn) and answers the times entered as count', async () => {
    const items = db.collection('always');
    await items.insertOne({ a: 1 });
    const { count: before } = await configureFailCommand(client, 'alwaysOn', {
      failCommands: ['find', 'count'],
      errorCode: 91,
    });
    const failure = {
      code: 91,
      codeName: 'ShutdownInProgress',
      message: "Failing command via 'failCommand' failpoint",
    };
    await expect(items.findOne({})).rejects.toMatchObject(failure);
    await expect(items.findOne({})).rejects.toMatchObject(failure);
    await expect(db.command({ count: 'always' })).rejects.toMatchObject(failure);
    // Commands not listed run as usual; configureFailPoint itself can never be failed.
    expect(await db.command({ distinct: 'always', key: 'a' })).toMatchObject({ values: [1] });
    expect(await configureFailCommand(client, 'off')).toEqual({ count: before + 3, ok: 1 });
    expect(await items.findOne({}, { projection: { _id: 0 } })).toEqual({ a: 1 });
  });

  it('{times: n} fails the next n matching commands, then turns itself off', async () => {
    const items = db.collection('times');
    await configureFailCommand(client, { times: 2 }, { failCommands: ['find'], errorCode: 2 });
    await expect(items.findOne({})).rejects.toMatchObject({ code: 2 });
    await items.insertOne({ between: true }); // not listed: does not use a time
    await expect(items.findOne({})).rejects.toMatchObject({ code: 2 });
    expect(await items.findOne({}, { projection: { _id: 0 } })).toEqual({ between: true });
  });

  it('{skip: n} lets the first n matching commands through, then fails every one', async () => {
    const items = db.collection('skip');
    await configureFailCommand(client, { skip: 2 }, { failCommands: ['find'], errorCode: 2 });
    await expect(items.findOne({})).resolves.toBeNull();
    await expect(items.findOne({})).resolves.toBeNull();
    await expect(items.findOne({})).rejects.toMatchObject({ code: 2 });
    await expect(items.findOne({})).rejects.toMatchObject({ code: 2 });
  });

  it('"off" stops failing at once', async () => {
    await configureFailCommand(client, 'alwaysOn', { failCommands: ['find'], errorCode: 2 });
    await expect(db.collection('off').findOne({})).rejects.toMatchObject({ code: 2 });
    await configureFailCommand(client, 'off');
    await expect(db.collection('off').findOne({})).resolves.toBeNull();
  });

  it('a failed write has no effect, and errorLabels are attached to the error', async () => {
    const items = db.collection('no-effect');
    await configureFailCommand(
      client,
      { times: 1 },
      {
        failCommands: ['insert', 'findAndModify'],
        errorCode: 112,
        errorLabels: ['TransientTransactionError'],
      },
    );
    const error: unknown = await items.insertOne({ lost: true }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 112, codeName: 'WriteConflict' });
    expect((error as { errorLabels: string[] }).errorLabels).toEqual(['TransientTransactionError']);
    expect(await items.countDocuments()).toBe(0);
  });

  it('closeConnection closes the socket without a reply and the command does not run', async () => {
    const items = db.collection('closed');
    await configureFailCommand(client, { times: 1 }, { failCommands: ['insert'], closeConnection: true });
    await expect(items.insertOne({ lost: true })).rejects.toBeInstanceOf(MongoNetworkError);
    expect(await items.countDocuments()).toBe(0);
    await items.insertOne({ kept: true });
    expect(await items.countDocuments()).toBe(1);
  });

  it('writeConcernError: the write runs and its reply carries the error', async () => {
    const items = db.collection('write-concern');
    const writeConcernError = {
      code: 91,
      codeName: 'ShutdownInProgress',
      errmsg: 'Replication is being shut down',
    };
    await configureFailCommand(
      client,
      { times: 1 },
      {
        failCommands: ['insert'],
        writeConcernError,
        errorLabels: ['RetryableWriteError'],
      },
    );
    // The driver reports the write concern error of an acknowledged write as MongoWriteConcernError.
    const error: unknown = await db
      .command({ insert: 'write-concern', documents: [{ kept: true }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MongoWriteConcernError);
    expect((error as MongoWriteConcernError).result).toMatchObject({
      ok: 1,
      n: 1,
      writeConcernError,
      errorLabels: ['RetryableWriteError'],
    });
    expect(await items.countDocuments()).toBe(1);
    // Commands that take no write concern are not touched.
    await configureFailCommand(client, 'alwaysOn', { failCommands: ['find'], writeConcernError });
    expect(await db.command({ find: 'write-concern' })).not.toHaveProperty('writeConcernError');
  });

  it('blockConnection delays the reply without blocking other connections', async () => {
    const blockedClient = await MongoClient.connect(server.uri, {
      appName: 'blocked-app',
      retryReads: false,
    });
    try {
      const { count } = await configureFailCommand(client, 'alwaysOn', {
        failCommands: ['find'],
        appName: 'blocked-app',
        blockConnection: true,
        blockTimeMS: 600_000,
      });
      let settled = false;
      const blockedRead = blockedClient
        .db('faults')
        .collection('blocked')
        .findOne({})
        .then(
          () => 'answered',
          () => 'failed',
        )
        .finally(() => {
          settled = true;
        });
      await client
        .db('admin')
        .command({ waitForFailPoint: 'failCommand', timesEntered: count + 1, maxTimeMS: 60_000 });
      // The blocked connection's command is held while this one is served.
      await db.collection('blocked').insertOne({ served: true });
      expect(await db.collection('blocked').countDocuments()).toBe(1);
      expect(settled).toBe(false);
      // A client that leaves interrupts its blocked command.
      await blockedClient.close(true);
      expect(await blockedRead).toBe('failed');
    } finally {
      await blockedClient.close(true);
    }
  });

  it('blockConnection then runs the command; a missing blockTimeMS is InvalidOptions', async () => {
    await db.collection('delayed').insertOne({ a: 1 });
    await configureFailCommand(
      client,
      { times: 1 },
      { failCommands: ['find'], blockConnection: true, blockTimeMS: 20 },
    );
    const started = performance.now();
    expect(await db.collection('delayed').findOne({}, { projection: { _id: 0 } })).toEqual({ a: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
    await configureFailCommand(client, { times: 1 }, { failCommands: ['find'], blockConnection: true });
    await expect(db.collection('delayed').findOne({})).rejects.toMatchObject({
      code: 72,
      message: "must specify 'blockTimeMS' when 'blockConnection' is true",
    });
  });

  it('appName targets connections by their hello handshake metadata', async () => {
    const appClient = await MongoClient.connect(server.uri, { appName: 'gen3d-target', retryReads: false });
    try {
      await configureFailCommand(client, 'alwaysOn', {
        failCommands: ['find'],
        errorCode: 2,
        appName: 'gen3d-target',
      });
      await expect(appClient.db('faults').collection('apps').findOne({})).rejects.toMatchObject({ code: 2 });
      await expect(db.collection('apps').findOne({})).resolves.toBeNull();
    } finally {
      await appClient.close();
    }
  });

  it('hello can be failed for one application, and command aliases match (isMaster/ismaster)', async () => {
    await configureFailCommand(client, 'alwaysOn', {
      failCommands: ['isMaster', 'hello'],
      errorCode: 2,
      appName: 'gen3d-monitor',
    });
    const monitored = new MongoClient(server.uri, {
      appName: 'gen3d-monitor',
      serverSelectionTimeoutMS: 2_000,
    });
    await expect(monitored.connect()).rejects.toThrow();
    await monitored.close();
    // Other applications still connect; the fail point stayed on for the named one.
    expect(await db.command({ ismaster: 1 })).toMatchObject({ ismaster: true });
  });

  it('namespace and threadName narrow the commands failed; failInternalCommands changes nothing for clients', async () => {
    await configureFailCommand(client, 'alwaysOn', {
      failCommands: ['find'],
      errorCode: 2,
      namespace: 'faults.targeted',
      failInternalCommands: true,
    });
    await expect(db.collection('targeted').findOne({})).rejects.toMatchObject({ code: 2 });
    await expect(db.collection('other').findOne({})).resolves.toBeNull();
    await configureFailCommand(client, 'alwaysOn', {
      failCommands: ['find'],
      errorCode: 2,
      threadName: 'conn999999',
    });
    await expect(db.collection('targeted').findOne({})).resolves.toBeNull();
  });

  it('{activationProbability: p} fails a matching command with probability p; failAllCommands needs no list', async () => {
    await configureFailCommand(
      client,
      { activationProbability: 1 },
      { failCommands: ['find'], errorCode: 2 },
    );
    await expect(db.collection('random').findOne({})).rejects.toMatchObject({ code: 2 });
    await configureFailCommand(
      client,
      { activationProbability: 0 },
      { failCommands: ['find'], errorCode: 2 },
    );
    await expect(db.collection('random').findOne({})).resolves.toBeNull();
    await expect(configureFailCommand(client, { activationProbability: 2 })).rejects.toMatchObject({
      code: 2,
    });
    await configureFailCommand(client, { times: 2 }, { failAllCommands: true, errorCode: 2 });
    await expect(db.command({ ping: 1 })).rejects.toMatchObject({ code: 2 });
    await expect(db.collection('random').countDocuments()).rejects.toMatchObject({ code: 2 });
    expect(await db.command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it('threadName names one connection (conn<connectionId>)', async () => {
    const single = await MongoClient.connect(server.uri, { maxPoolSize: 1, retryReads: false });
    try {
      const singleDb = single.db('faults');
      const { connectionId } = await singleDb.command({ hello: 1 });
      await configureFailCommand(client, 'alwaysOn', {
        failCommands: ['find'],
        errorCode: 2,
        threadName: `conn${String(connectionId)}`,
      });
      await expect(singleDb.collection('thread').findOne({})).rejects.toMatchObject({ code: 2 });
      await expect(db.collection('thread').findOne({})).resolves.toBeNull();
    } finally {
      await single.close();
    }
  });

  it('waitForFailPoint needs maxTimeMS and gives up with MaxTimeMSExpired', async () => {
    const admin = client.db('admin');
    await expect(admin.command({ waitForFailPoint: 'failCommand', timesEntered: 1 })).rejects.toMatchObject({
      code: 9,
    });
    await expect(
      admin.command({ waitForFailPoint: 'failCommand', timesEntered: 1_000_000, maxTimeMS: 10 }),
    ).rejects.toMatchObject({ code: 50, codeName: 'MaxTimeMSExpired' });
  });
});

describe('pnpm db --enableTestCommands', () => {
  it('enables configureFailPoint in the CLI; without the flag it is refused', async () => {
    for (const enabled of [true, false]) {
      const child = runTypeScript(
        CLI,
        { EMBEDDED_DB_PORT: '0', DATA_DIR: dataDirectory() },
        enabled ? ['--enableTestCommands'] : [],
      );
      try {
        const line = await child.waitForLine((candidate) => candidate.includes('listening at mongodb://'));
        const uri = (/mongodb:\/\/\S+/.exec(line) as RegExpExecArray)[0];
        const cliClient = await MongoClient.connect(uri);
        try {
          const attempt = configureFailCommand(cliClient, 'off');
          if (enabled) await expect(attempt).resolves.toMatchObject({ ok: 1 });
          else await expect(attempt).rejects.toMatchObject({ code: 59 });
        } finally {
          await cliClient.close();
        }
      } finally {
        child.child.kill('SIGTERM');
        await child.exited;
      }
    }
  });

  it('refuses an unknown flag', async () => {
    const child = runTypeScript(CLI, { EMBEDDED_DB_PORT: '0', DATA_DIR: dataDirectory() }, [
      '--enableTestCommand',
    ]);
    expect(await child.exited).toMatchObject({ code: 2 });
    expect(child.stderr()).toContain('usage: pnpm db [--enableTestCommands]');
  });
});

function configureFailCommandNamed(client: MongoClient, name: string): Promise<Document> {
  return client.db('admin').command({ configureFailPoint: name, mode: 'off' });
}

function dataDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'gen3d-fail-points-'));
}
