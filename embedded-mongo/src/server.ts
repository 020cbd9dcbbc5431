import { createServer, type Server, type Socket } from 'node:net';

import type { Document } from 'bson';

import { Catalog } from './catalog.js';
import type { CommandHandler } from './commands/context.js';
import { executeCommand, supportedCommands } from './commands/index.js';
import { testCommandNames, testCommands } from './commands/test-commands.js';
import { CursorRegistry } from './cursors.js';
import { FailCommandPoint, type FailPointClient } from './fail-points.js';
import { Journal } from './journal.js';
import { MessageFramer } from './message-framer.js';
import { OperationCounters, type ServerStatusSource } from './server-status.js';
import { removeExpiredDocuments } from './ttl-monitor.js';
import { encodeOpMsgReply, encodeOpReply, parseMessage, type IncomingCommand } from './wire-protocol.js';

const MAX_MESSAGE_BYTES = 48_000_000;
/** Commands of one connection received but not answered before its reading pauses. */
const MAX_WAITING_COMMANDS = 16;

/** Resolves once the socket has sent what it buffered, or closed. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Resolves after `ms`, or as soon as the socket closes (mongod interrupts a blocked command whose client left). */
function blocked(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.on('close', done);
  });
}

const HANDSHAKE_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

/** `client.application.name` of a handshake's metadata, if any. */
function applicationName(command: Document): string | undefined {
  const client: unknown = command.client;
  if (typeof client !== 'object' || client === null) return undefined;
  const application: unknown = (client as Document).application;
  if (typeof application !== 'object' || application === null) return undefined;
  const name: unknown = (application as Document).name;
  return typeof name === 'string' ? name : undefined;
}

export interface EmbeddedMongoOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** Directory for durable data; in memory only when absent. */
  dataDir?: string;
  /** How often expired TTL documents are removed (mongod: 60 s). */
  ttlMonitorIntervalMs?: number;
  /** Journal size that triggers a compaction into a fresh snapshot. */
  compactAfterBytes?: number;
  /**
   * Also answer mongod's test commands (`configureFailPoint` with the `failCommand` fail point), as
   * `mongod --setParameter enableTestCommands=1` does. Off by default: only for tests.
   */
  enableTestCommands?: boolean;
  onError?: (error: Error) => void;
  /** Reports documents written although they fail a validator whose validationAction is 'warn'. */
  onWarning?: (message: string) => void;
}

/**
 * A MongoDB-compatible server speaking the wire protocol on loopback, for development and tests
 * where no mongod exists. It behaves as a standalone mongod: no transactions, no change streams.
 */
export class EmbeddedMongoServer {
  private readonly catalog: Catalog;
  private readonly journal: Journal | undefined;
  private readonly cursors = new CursorRegistry();
  private readonly sockets = new Set<Socket>();
  private stopping = false;
  private readonly counters = new OperationCounters();
  private readonly status: ServerStatusSource;
  private connectionsCreated = 0;
  private readonly onError: (error: Error) => void;
  private server: Server | undefined;
  private ttlTimer: NodeJS.Timeout | undefined;
  private nextConnectionId = 1;
  private listeningPort = 0;
  private readonly host: string;
  /** Only with test commands enabled. */
  private readonly failCommand: FailCommandPoint | undefined;
  private readonly extraCommands: Record<string, CommandHandler> | undefined;

  private constructor(catalog: Catalog, journal: Journal | undefined, options: EmbeddedMongoOptions) {
    this.catalog = catalog;
    this.journal = journal;
    this.host = options.host ?? '127.0.0.1';
    this.onError = options.onError ?? (() => {});
    this.status = {
      counters: this.counters,
      startedAt: new Date(),
      port: () => this.listeningPort,
      connections: () => ({ current: this.sockets.size, totalCreated: this.connectionsCreated }),
    };
    if (options.enableTestCommands) {
      this.failCommand = new FailCommandPoint([...supportedCommands, ...testCommandNames]);
      this.extraCommands = testCommands(this.failCommand);
    }
  }

  static async start(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongoServer> {
    const catalog = new Catalog();
    if (options.onWarning) catalog.setWarningSink(options.onWarning);
    let journal: Journal | undefined;
    if (options.dataDir) {
      const opened = await Journal.open(options.dataDir, {
        compactAfterBytes: options.compactAfterBytes ?? 64 * 1024 * 1024,
      });
      journal = opened.journal;
      for (const record of opened.records) catalog.replay(record);
      journal.start(() => catalog.snapshotRecords());
      const sink = journal;
      catalog.setSink((record) => sink.append(record));
    }
    const instance = new EmbeddedMongoServer(catalog, journal, options);
    await instance.listen(options.port ?? 0);
    instance.ttlTimer = setInterval(() => instance.expireDocuments(), options.ttlMonitorIntervalMs ?? 60_000);
    instance.ttlTimer.unref();
    return instance;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** A connection string for mongoose, the driver, mongosh or Compass. */
  get uri(): string {
    return `mongodb://${this.host}:${this.listeningPort}/`;
  }

  get persistent(): boolean {
    return this.journal !== undefined;
  }

  /** Closes every connection, then flushes and unlocks the data directory. */
  async stop(): Promise<void> {
    clearInterval(this.ttlTimer);
    // A client still monitoring the server reconnects at once; once stopping, such connections are refused
    // too, or closing the listener would wait for them forever.
    this.stopping = true;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.journal?.close();
  }

  private expireDocuments(): void {
    removeExpiredDocuments(this.catalog);
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(port, this.host, () => {
        const address = server.address();
        this.listeningPort = typeof address === 'object' && address ? address.port : port;
        this.server = server;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const connectionId = this.nextConnectionId++;
    const client: FailPointClient = { connectionId, appName: undefined };
    this.sockets.add(socket);
    this.connectionsCreated += 1;
    socket.setNoDelay(true);
    const framer = new MessageFramer(MAX_MESSAGE_BYTES);
    let queue = Promise.resolve();
    // A client that sends commands but never reads the replies is stopped from sending more: reading pauses
    // while commands wait, and a reply the socket cannot take waits for it to drain.
    let waiting = 0;
    const settled = (): void => {
      waiting -= 1;
      if (waiting < MAX_WAITING_COMMANDS && socket.isPaused()) socket.resume();
    };
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = framer.push(chunk);
      } catch (error) {
        this.refuse(socket, connectionId, error);
        return;
      }
      // Commands of one connection run in order; replies wait for the journal's fsync.
      for (const message of messages) {
        waiting += 1;
        queue = queue
          .then(() => this.handle(socket, client, message))
          .catch((error: unknown) => this.refuse(socket, connectionId, error))
          .finally(settled);
      }
      if (waiting >= MAX_WAITING_COMMANDS) socket.pause();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Closes a connection that broke the protocol, as mongod does, and reports why. */
  private refuse(socket: Socket, connectionId: number, error: unknown): void {
    socket.destroy();
    const reason = error instanceof Error ? error.message : String(error);
    this.onError(new Error(`connection ${connectionId} closed: ${reason}`));
  }

  private async handle(socket: Socket, client: FailPointClient, message: Buffer): Promise<void> {
    if (socket.destroyed) return;
    const { connectionId } = client;
    let incoming: IncomingCommand;
    try {
      incoming = parseMessage(message);
    } catch (error) {
      this.refuse(socket, connectionId, error);
      return;
    }
    const database =
      incoming.legacyDatabase ?? (typeof incoming.command.$db === 'string' ? incoming.command.$db : 'admin');
    let reply: Document | undefined;
    const failCommand = this.failCommand;
    if (failCommand) {
      const name = Object.keys(incoming.command)[0] ?? '';
      if (client.appName === undefined && HANDSHAKE_COMMANDS.has(name)) {
        client.appName = applicationName(incoming.command);
      }
      // The one test command that waits: every other command runs synchronously.
      if (name === 'waitForFailPoint') reply = await failCommand.waitFor(incoming.command, database);
      const fault =
        !reply && failCommand.active
          ? failCommand.faultBefore(incoming.command, database, client)
          : undefined;
      if (fault) {
        if (fault.blockTimeMS > 0) await blocked(socket, fault.blockTimeMS);
        if (socket.destroyed) return;
        if (fault.closeConnection) {
          socket.destroy();
          return;
        }
        reply = fault.errorReply;
      }
    }
    if (!reply) {
      reply = executeCommand(
        { catalog: this.catalog, cursors: this.cursors, connectionId, status: this.status },
        incoming.command,
        database,
        this.extraCommands,
      );
      if (failCommand?.active) reply = failCommand.afterCommand(incoming.command, database, client, reply);
    }
    try {
      await this.journal?.durable();
    } catch (error) {
      // Never acknowledge a write that is not on disk: the client sees the connection fail.
      this.onError(error instanceof Error ? error : new Error(String(error)));
      socket.destroy();
      return;
    }
    if (incoming.moreToCome || socket.destroyed) return;
    const encoded = incoming.legacy
      ? encodeOpReply(incoming.header.requestId, reply)
      : encodeOpMsgReply(incoming.header.requestId, reply);
    if (!socket.write(encoded)) await drained(socket);
  }
}
