import {
  closeSync,
  existsSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  write,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';

import { BSON, type Document } from 'bson';

import { typePreservingDeserializer } from './bson-numbers.js';
import type { JournalRecord } from './journal-records.js';

const FRAME_HEADER_BYTES = 8;
const SNAPSHOT_FILE = 'snapshot.bson';
const LOCK_FILE = 'mongod.lock';
const JOURNAL_PATTERN = /^journal\.(\d+)\.log$/;
const writeAsync = promisify(write);
const deserialize = typePreservingDeserializer();
const fdatasyncAsync = promisify(fdatasync);

export interface JournalOptions {
  /** Compact into a snapshot when the live journal grows past this many bytes. */
  compactAfterBytes: number;
}

/** One record framed as [length][crc32][bson], so a torn tail write is recognised and dropped. */
function frame(record: JournalRecord): Buffer {
  const body = BSON.serialize(record as Document);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([header, body]);
}

/** The intact records of a file; stops at the first torn or corrupt frame (a write never acknowledged). */
function readFrames(path: string): { records: JournalRecord[]; validBytes: number } {
  const data = readFileSync(path);
  const records: JournalRecord[] = [];
  let offset = 0;
  while (offset + FRAME_HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(offset);
    const checksum = data.readUInt32LE(offset + 4);
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > data.length) break;
    const body = data.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(body) !== checksum) break;
    records.push(deserialize(body) as JournalRecord);
    offset = end;
  }
  return { records, validBytes: offset };
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Durable storage for the embedded server: a snapshot plus an append-only journal of changes.
 * Writes are group-committed: `durable()` resolves once every record appended before the call is
 * fsynced, and the server acknowledges a write only after that.
 */
export class Journal {
  private readonly dir: string;
  private readonly options: JournalOptions;
  private generation = 0;
  private fd: number | undefined;
  private journalBytes = 0;
  private pending: Buffer[] = [];
  private appended = 0;
  private synced = 0;
  private waiters: Array<{ target: number; resolve: () => void; reject: (error: Error) => void }> = [];
  private flushing = false;
  private failure: Error | undefined;
  private snapshotSource: (() => Iterable<JournalRecord>) | undefined;

  private constructor(dir: string, options: JournalOptions) {
    this.dir = dir;
    this.options = options;
  }

  /** Locks the directory and returns the journal with every record to replay, snapshot first. */
  static async open(
    dir: string,
    options: JournalOptions,
  ): Promise<{ journal: Journal; records: JournalRecord[] }> {
    mkdirSync(dir, { recursive: true });
    const journal = new Journal(dir, options);
    journal.lock();
    let records: JournalRecord[] = [];
    let snapshotGeneration = 0;
    const snapshotPath = join(dir, SNAPSHOT_FILE);
    if (existsSync(snapshotPath)) {
      const snapshot = readFrames(snapshotPath).records;
      const header = snapshot.shift() as unknown as { generation?: number } | undefined;
      snapshotGeneration = header?.generation ?? 0;
      // Not push(...): spreading a large snapshot's records as arguments overflows the stack.
      records = records.concat(snapshot);
    }
    const journals = readdirSync(dir)
      .map((name) => ({ name, generation: Number(JOURNAL_PATTERN.exec(name)?.[1] ?? NaN) }))
      .filter((file) => Number.isFinite(file.generation))
      .sort((a, b) => a.generation - b.generation);
    for (const file of journals) {
      if (file.generation > snapshotGeneration)
        records = records.concat(readFrames(join(dir, file.name)).records);
    }
    journal.generation = Math.max(snapshotGeneration, ...journals.map((file) => file.generation));
    return { journal, records };
  }

  /**
   * Starts appending: folds everything replayed into a fresh snapshot and opens a new journal file.
   * `snapshot` yields the complete current state and is used again whenever the journal is compacted.
   */
  start(snapshot: () => Iterable<JournalRecord>): void {
    this.snapshotSource = snapshot;
    this.compactNow();
  }

  append(record: JournalRecord): void {
    const framed = frame(record);
    this.pending.push(framed);
    this.appended += 1;
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flushLoop());
    }
  }

  /** Resolves when every record appended so far is on disk. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const target = this.appended;
    if (this.synced >= target) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  async close(): Promise<void> {
    while (this.flushing || this.pending.length > 0) await this.durable();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(join(this.dir, LOCK_FILE), { force: true });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = Buffer.concat(this.pending);
        const target = this.appended;
        this.pending = [];
        const fd = this.openFd();
        await writeAsync(fd, batch);
        await fdatasyncAsync(fd);
        this.journalBytes += batch.length;
        this.synced = target;
        this.releaseWaiters();
        if (this.journalBytes > this.options.compactAfterBytes) {
          this.writePendingSync();
          this.compactNow();
        }
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      for (const waiter of this.waiters) waiter.reject(this.failure);
      this.waiters = [];
    } finally {
      this.flushing = false;
    }
  }

  private releaseWaiters(): void {
    const ready = this.waiters.filter((waiter) => waiter.target <= this.synced);
    this.waiters = this.waiters.filter((waiter) => waiter.target > this.synced);
    for (const waiter of ready) waiter.resolve();
  }

  /** Writes what arrived during the last fsync into the current journal, so the snapshot is exact. */
  private writePendingSync(): void {
    if (this.pending.length === 0) return;
    const fd = this.openFd();
    const target = this.appended;
    writeSync(fd, Buffer.concat(this.pending));
    this.pending = [];
    fsyncSync(fd);
    this.synced = target;
    this.releaseWaiters();
  }

  /**
   * Writes the whole state as a snapshot covering every journal so far, then starts a new journal.
   * Runs synchronously so no change can slip in between the snapshot and the switch.
   */
  private compactNow(): void {
    if (!this.snapshotSource) return;
    const covered = this.generation;
    const header = frame({ generation: covered } as unknown as JournalRecord);
    const frames: Buffer[] = [header];
    for (const record of this.snapshotSource()) frames.push(frame(record));
    const temporary = join(this.dir, `${SNAPSHOT_FILE}.tmp`);
    const fd = openSync(temporary, 'w');
    try {
      for (const chunk of frames) writeSync(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, join(this.dir, SNAPSHOT_FILE));
    fsyncDirectory(this.dir);
    for (const name of readdirSync(this.dir)) {
      const generation = Number(JOURNAL_PATTERN.exec(name)?.[1] ?? NaN);
      if (Number.isFinite(generation) && generation <= covered) rmSync(join(this.dir, name), { force: true });
    }
    this.generation = covered + 1;
    if (this.fd !== undefined) closeSync(this.fd);
    const path = join(this.dir, `journal.${this.generation}.log`);
    this.fd = openSync(path, 'a');
    fsyncDirectory(this.dir);
    this.journalBytes = 0;
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error('journal is not open');
    return this.fd;
  }

  private lock(): void {
    const path = join(this.dir, LOCK_FILE);
    if (existsSync(path)) {
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isProcessAlive(holder)) {
        throw new Error(`DATA_DIR ${this.dir} is in use by another embedded database (process ${holder})`);
      }
    }
    writeFileSync(path, String(process.pid));
  }
}
