import { connect } from 'node:net';

import { BSON, type Document } from 'bson';
import { MongoClient } from 'mongodb';
import { describe, expect, it, vi } from 'vitest';

import { EmbeddedMongoServer } from '../src/index.js';

function legacyQuery(requestId: number, namespace: string, query: Document): Buffer {
  const name = Buffer.from(`${namespace}\0`, 'utf8');
  const body = BSON.serialize(query);
  const header = Buffer.alloc(20);
  const fields = Buffer.alloc(8);
  fields.writeInt32LE(0, 0);
  fields.writeInt32LE(-1, 4);
  const length = header.length + name.length + fields.length + body.length;
  header.writeInt32LE(length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2004, 12);
  header.writeInt32LE(0, 16);
  return Buffer.concat([header, name, fields, body]);
}

describe('embedded server wire protocol', () => {
  it('answers the legacy OP_QUERY isMaster handshake with an OP_REPLY', async () => {
    const server = await EmbeddedMongoServer.start({});
    try {
      const socket = connect(server.port, '127.0.0.1');
      const reply = await new Promise<Buffer>((resolve, reject) => {
        let received = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          if (received.length >= 4 && received.length >= received.readInt32LE(0)) resolve(received);
        });
        socket.on('error', reject);
        socket.write(
          legacyQuery(7, 'admin.$cmd', { isMaster: 1, client: { driver: { name: 'test', version: '0' } } }),
        );
      });
      socket.destroy();
      expect(reply.readInt32LE(8)).toBe(7);
      expect(reply.readInt32LE(12)).toBe(1);
      expect(reply.readInt32LE(32)).toBe(1);
      const document = BSON.deserialize(reply.subarray(36));
      expect(document).toMatchObject({ ismaster: true, ok: 1, maxWireVersion: 21 });
    } finally {
      await server.stop();
    }
  });
});

describe('embedded server TTL indexes', () => {
  it('removes documents once their TTL has passed, and keeps the rest', async () => {
    const server = await EmbeddedMongoServer.start({ ttlMonitorIntervalMs: 50 });
    const client = await MongoClient.connect(`${server.uri}ttl`);
    try {
      const sessions = client.db().collection('sessions');
      await sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
      await sessions.createIndex(
        { createdAt: 1 },
        { expireAfterSeconds: 3600, partialFilterExpression: { temporary: true } },
      );
      await sessions.insertMany([
        { name: 'old-but-kept', createdAt: new Date(Date.now() - 7_200_000), temporary: false },
        { name: 'expired', expiresAt: new Date(Date.now() - 1_000) },
        { name: 'future', expiresAt: new Date(Date.now() + 3_600_000) },
        { name: 'no-date', expiresAt: 'not a date' },
        { name: 'old', createdAt: new Date(Date.now() - 7_200_000), temporary: true },
      ]);
      await vi.waitFor(
        async () => {
          expect((await sessions.find().toArray()).map((doc) => doc.name).sort()).toEqual([
            'future',
            'no-date',
            'old-but-kept',
          ]);
        },
        { timeout: 30_000, interval: 50 },
      );
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
