import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { BSON, type Document } from 'bson';
import fc from 'fast-check';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmbeddedMongoServer } from '../src/index.js';

// Live memory after a full collection, so the check measures what is retained, not when the collector ran
// (RSS on a busy machine moves by tens of MiB with collection timing alone).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
function liveBytes(): number {
  collectGarbage();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const OP_MSG = 2013;
const OP_QUERY = 2004;
const FRAMES = Number(process.env.WIRE_FUZZ_FRAMES ?? 10_000);
const SEED = Number(process.env.WIRE_FUZZ_SEED ?? 20261202);
const PING_REQUEST_ID = 0x5a5a;

function header(length: number, requestId: number, opCode: number): Buffer {
  const bytes = Buffer.alloc(16);
  bytes.writeInt32LE(length, 0);
  bytes.writeInt32LE(requestId, 4);
  bytes.writeInt32LE(0, 8);
  bytes.writeInt32LE(opCode, 12);
  return bytes;
}

function opMsg(requestId: number, body: Document, sequence?: { id: string; documents: Document[] }): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0, 0, 0]), Buffer.from([0]), Buffer.from(BSON.serialize(body))];
  if (sequence) {
    const docs = Buffer.concat(sequence.documents.map((doc) => BSON.serialize(doc)));
    const id = Buffer.from(`${sequence.id}\0`, 'utf8');
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + id.length + docs.length, 0);
    parts.push(Buffer.from([1]), size, id, docs);
  }
  const rest = Buffer.concat(parts);
  return Buffer.concat([header(16 + rest.length, requestId, OP_MSG), rest]);
}

function opQuery(requestId: number, namespace: string, query: Document): Buffer {
  const rest = Buffer.concat([
    Buffer.alloc(4),
    Buffer.from(`${namespace}\0`),
    Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    BSON.serialize(query),
  ]);
  return Buffer.concat([header(16 + rest.length, requestId, OP_QUERY), rest]);
}

/** Well-formed frames the mutators start from: what drivers really send. */
const validFrames: Buffer[] = [
  opMsg(1, { ping: 1, $db: 'admin' }),
  opMsg(
    2,
    { insert: 'fuzz', $db: 'fuzz' },
    { id: 'documents', documents: [{ a: 1 }, { b: 'two', c: [1, 2, { d: null }] }] },
  ),
  opMsg(3, { find: 'fuzz', filter: { a: { $gte: 0 } }, $db: 'fuzz' }),
  opMsg(
    4,
    { update: 'fuzz', $db: 'fuzz' },
    { id: 'updates', documents: [{ q: { a: 1 }, u: { $set: { e: 5 } } }] },
  ),
  opQuery(5, 'admin.$cmd', { isMaster: 1, client: { driver: { name: 'fuzz', version: '0' } } }),
];

/** The 26-byte frame of the report: a document sequence whose size field is -1. */
function negativeSequenceFrame(): Buffer {
  const frame = Buffer.concat([
    header(26, 9, OP_MSG),
    Buffer.alloc(4),
    Buffer.from([1]),
    Buffer.from([0xff, 0xff, 0xff, 0xff]),
    Buffer.from('x\0', 'ascii'),
  ]);
  frame.writeInt32LE(frame.length + 1, 0);
  return Buffer.concat([frame, Buffer.from([0])]);
}

const withLength = (frame: Buffer, length: number): Buffer => {
  const copy = Buffer.from(frame);
  copy.writeInt32LE(length | 0, 0);
  return copy;
};

/** A generator of hostile frames: mutated valid frames, bad lengths, opcodes, section kinds and BSON. */
const hostileFrame: fc.Arbitrary<Buffer> = fc.oneof(
  // Valid frames with flipped bytes.
  fc
    .tuple(
      fc.constantFrom(...validFrames),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    )
    .map(([frame, flips]) => {
      const copy = Buffer.from(frame);
      for (const [at, value] of flips) copy[at % copy.length] = value;
      return copy;
    }),
  // Truncated frames, with their declared length kept or corrected.
  fc.tuple(fc.constantFrom(...validFrames), fc.nat(), fc.boolean()).map(([frame, cut, fixLength]) => {
    const part = Buffer.from(frame.subarray(0, Math.max(4, cut % frame.length)));
    if (fixLength) part.writeInt32LE(part.length, 0);
    return part;
  }),
  // Oversized, negative and tiny declared lengths.
  fc
    .tuple(
      fc.constantFrom(...validFrames),
      fc.constantFrom(-1, 0, 15, 16, 17, 0x7fffffff, 48_000_001, -2_147_483_648),
      fc.integer(),
    )
    .map(([frame, length, noise]) =>
      withLength(frame, length === 17 ? frame.length + (noise % 1000) : length),
    ),
  // Random opcodes.
  fc.tuple(fc.constantFrom(...validFrames), fc.integer()).map(([frame, opCode]) => {
    const copy = Buffer.from(frame);
    copy.writeInt32LE(opCode, 12);
    return copy;
  }),
  // An OP_MSG with random flags, section kinds and section sizes.
  fc
    .tuple(
      fc.integer(),
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: -5, max: 300 }),
          fc.uint8Array({ maxLength: 64 }),
        ),
        { maxLength: 4 },
      ),
    )
    .map(([flags, sections]) => {
      const parts: Buffer[] = [Buffer.alloc(4)];
      parts[0]?.writeInt32LE(flags, 0);
      for (const [kind, size, bytes] of sections) {
        const sizeField = Buffer.alloc(4);
        sizeField.writeInt32LE(size, 0);
        parts.push(Buffer.from([kind]), sizeField, Buffer.from(bytes));
      }
      const rest = Buffer.concat(parts);
      return Buffer.concat([header(16 + rest.length, 7, OP_MSG), rest]);
    }),
  // Garbage BSON behind a valid envelope.
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => {
    const body = Buffer.from(bytes);
    if (body.length >= 4) body.writeInt32LE(body.length, 0);
    const rest = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), body]);
    return Buffer.concat([header(16 + rest.length, 8, OP_MSG), rest]);
  }),
  // Pure noise.
  fc.uint8Array({ minLength: 1, maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
);

/** Sends the frame then a ping on one connection, half-closes it, and waits until the server has closed it. */
function sendAndAwaitClose(port: number, frame: Buffer): Promise<{ answeredPing: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      let answeredPing = false;
      for (let at = 0; at + 16 <= received.length;) {
        const length = received.readInt32LE(at);
        if (length < 16) break;
        if (received.readInt32LE(at + 8) === PING_REQUEST_ID) answeredPing = true;
        at += length;
      }
      resolve({ answeredPing });
    });
    socket.on('connect', () => {
      socket.write(Buffer.concat([frame, opMsg(PING_REQUEST_ID, { ping: 1, $db: 'admin' })]));
      socket.end();
    });
    socket.setTimeout(20_000, () =>
      reject(
        new Error(
          `the server neither answered nor closed a connection for frame ${frame.toString('hex').slice(0, 120)}`,
        ),
      ),
    );
  });
}

describe('embedded server: hostile wire-protocol frames', () => {
  let server: EmbeddedMongoServer;
  const errors: string[] = [];
  const connection = mongoose.createConnection();

  beforeAll(async () => {
    server = await EmbeddedMongoServer.start({ onError: (error) => errors.push(error.message) });
    await connection.openUri(`${server.uri}fuzz_mongoose`);
  });

  afterAll(async () => {
    await connection.close();
    await server.stop();
  });

  it('closes the connection that sends the 26-byte frame with a section size of -1, at once and with a log line', async () => {
    const frame = negativeSequenceFrame();
    const { answeredPing } = await sendAndAwaitClose(server.port, frame);
    expect(answeredPing).toBe(false);
    expect(errors.at(-1)).toMatch(
      /closed: malformed wire-protocol message: a document sequence declares -1 bytes/,
    );
    expect(await connection.db?.admin().ping()).toMatchObject({ ok: 1 });
  });

  it(`survives ${FRAMES} random and mutated frames: every connection ends, other clients keep working, memory stays flat`, async () => {
    const frames = fc.sample(hostileFrame, { seed: SEED, numRuns: FRAMES });
    const Things = connection.model('Thing', new mongoose.Schema({ name: String, n: Number }));
    const CONCURRENCY = 16;
    let next = 0;
    let answered = 0;
    let liveAfterWarmUp = 0;
    const worker = async (): Promise<void> => {
      while (next < frames.length) {
        const index = next++;
        if (index === Math.floor(FRAMES / 10)) liveAfterWarmUp = liveBytes();
        const outcome = await sendAndAwaitClose(server.port, frames[index] as Buffer);
        if (outcome.answeredPing) answered += 1;
        // A healthy client works beside the attack throughout.
        if (index % 500 === 0) await Things.create({ name: `during-${index}`, n: index });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));

    expect(await Things.countDocuments({ name: /^during-/ })).toBe(Math.ceil(FRAMES / 500));
    await Things.create({ name: 'after', n: -1 });
    expect(await Things.findOne({ name: 'after' }).lean()).toMatchObject({ n: -1 });
    const growthMiB = (liveBytes() - liveAfterWarmUp) / 2 ** 20;
    console.log(
      `wire fuzz: ${FRAMES} frames (seed ${SEED}), ${answered} connections still answered a following ping, ${errors.length} closed with a log line, growth of live memory (heap and buffers after a collection) since warm-up ${growthMiB.toFixed(1)} MiB`,
    );
    expect(errors.length).toBeGreaterThan(FRAMES / 2);
    expect(growthMiB).toBeLessThan(64);
  }, 180_000);
});
