import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { BSON, ObjectId, UUID, type Document } from 'bson';

import { startEmbeddedServerProcess, type EmbeddedServerProcess } from './server-process.js';

/**
 * The embedded server's own capacity: the commands mongoose sends for an insert, a findById and a queue
 * claim, pre-encoded and sent over TCP by a client that does nothing else, so the figures are the server's
 * (and the kernel's) rather than mongoose's. Prints operations/s and the server's CPU time per operation.
 * `pnpm bench embedded-db-raw`; BENCH_RAW_OPERATIONS (default 20,000 per figure, after a warm-up round of
 * as many), BENCH_CONCURRENCY (connections, default 16), BENCH_CLAIM_BACKLOG (default 2,000).
 */

const OPERATIONS = Number(process.env.BENCH_RAW_OPERATIONS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CLAIM_BACKLOG = Number(process.env.BENCH_CLAIM_BACKLOG ?? 2_000);
const OP_MSG = 2013;
/** Issue 18's targets, which the mongoose benchmark (embedded-db) is held to; shown here for the server's share. */
const TARGETS = { inserts: 5_000, findById: 10_000, claims: 3_000 } as const;

let requestId = 1;

function frame(command: Document): Buffer {
  const body = BSON.serialize(command);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(requestId++, 4);
  header.writeInt32LE(OP_MSG, 12);
  return Buffer.concat([header, body]);
}

/** One connection sending a command at a time, as a driver's pooled connection does. */
class RawConnection {
  private pending: Buffer = Buffer.alloc(0);
  private waiting: ((reply: Document) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      if (this.pending.length < 4) return;
      const length = this.pending.readInt32LE(0);
      if (this.pending.length < length) return;
      const reply = BSON.deserialize(this.pending.subarray(21, length));
      this.pending = this.pending.subarray(length);
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.(reply);
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(message: Buffer): Promise<Document> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(message);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

async function run(
  server: EmbeddedServerProcess,
  connections: RawConnection[],
  name: string,
  target: number | undefined,
  messages: Buffer[],
  check: (reply: Document) => void,
): Promise<void> {
  const cpuBefore = await server.cpuMicros();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    connections.map(async (connection) => {
      while (next < messages.length) check(await connection.send(messages[next++] as Buffer));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = ((await server.cpuMicros()) - cpuBefore) / messages.length;
  const perSecond = messages.length / seconds;
  const verdict =
    target === undefined ? '' : `  (target ${target}/s: ${perSecond >= target ? 'met' : 'MISSED'})`;
  console.log(
    `${name.padEnd(34)} ${perSecond.toFixed(0).padStart(7)}/s  server CPU ${cpu.toFixed(0)} µs/op  (${messages.length} ops)${verdict}`,
  );
}

function ok(reply: Document): void {
  if (reply.ok !== 1 || reply.writeErrors) throw new Error(`command failed: ${JSON.stringify(reply)}`);
}

const session = { id: new UUID() };

function insertCommand(collection: string, documents: Document[]): Buffer {
  return frame({ insert: collection, documents, ordered: true, lsid: session, $db: 'bench' });
}

function job(index: number, createdAt = new Date()): Document {
  return {
    owner: `user-${index % 50}`,
    prompt: `a red fox number ${index}`,
    status: 'queued',
    fairRank: 0,
    _id: new ObjectId(),
    createdAt,
    __v: 0,
  };
}

async function benchmarkOne(label: string, dataDir: string | undefined): Promise<void> {
  const server = await startEmbeddedServerProcess(dataDir);
  const connections = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => RawConnection.open(Number(new URL(server.uri).port))),
  );
  const [first] = connections as [RawConnection];
  ok(
    await first.send(
      frame({ createIndexes: 'jobs', indexes: [{ key: { status: 1 }, name: 'status_1' }], $db: 'bench' }),
    ),
  );
  // The app's claim index (server/src/jobs/job-model.ts): the queued jobs in claim order.
  const claimOrder = { status: 1, fairRank: 1, createdAt: 1, _id: 1 };
  ok(
    await first.send(
      frame({
        createIndexes: 'queue',
        indexes: [{ key: claimOrder, name: 'status_1_fairRank_1_createdAt_1__id_1' }],
        $db: 'bench',
      }),
    ),
  );
  console.log(`\nembedded database, raw client, ${label} (${CONCURRENCY} connections)`);
  for (const round of ['warm-up', 'measured']) {
    const jobs = Array.from({ length: OPERATIONS }, (_, index) => job(index));
    const inserts = jobs.map((doc) => insertCommand('jobs', [doc]));
    const finds = jobs.map((_, index) =>
      frame({
        find: 'jobs',
        filter: { _id: (jobs[(index * 7919) % jobs.length] as Document)._id },
        limit: 1,
        singleBatch: true,
        lsid: session,
        $db: 'bench',
      }),
    );
    // Every claim chooses among at least CLAIM_BACKLOG queued jobs.
    const backlog = Array.from({ length: CLAIM_BACKLOG + OPERATIONS }, (_, index) =>
      job(index, new Date(Date.now() + index)),
    );
    const claims = Array.from({ length: OPERATIONS }, () =>
      frame({
        findAndModify: 'queue',
        query: { status: 'queued' },
        remove: false,
        new: true,
        upsert: false,
        sort: { fairRank: 1, createdAt: 1, _id: 1 },
        update: { $set: { status: 'running', lease: 'worker-1' } },
        lsid: session,
        $db: 'bench',
      }),
    );
    const measured = round === 'measured';
    const label = (name: string): string => (measured ? name : `${name} (warm-up)`);
    const target = (value: number): number | undefined => (measured ? value : undefined);
    await run(server, connections, label('inserts'), target(TARGETS.inserts), inserts, ok);
    await run(server, connections, label('findById'), target(TARGETS.findById), finds, (reply) => {
      ok(reply);
      if ((reply.cursor as Document).firstBatch.length !== 1) throw new Error('missing job');
    });
    ok(await first.send(insertCommand('queue', backlog)));
    const claimsLabel = label(`atomic claims (backlog >= ${CLAIM_BACKLOG})`);
    await run(server, connections, claimsLabel, target(TARGETS.claims), claims, (reply) => {
      ok(reply);
      if (!reply.value) throw new Error('no job claimed');
    });
  }
  for (const connection of connections) connection.close();
  await server.stop();
}

/** The embedded server's throughput and CPU per operation with a client that costs next to nothing. */
export async function benchmarkEmbeddedDatabaseRaw(): Promise<void> {
  await benchmarkOne('in memory', undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-bench-raw-'));
  try {
    await benchmarkOne('durable (DATA_DIR, fsync before acknowledging)', dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
