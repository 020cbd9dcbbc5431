import { hostname } from 'node:os';

import { Long, type Document } from 'bson';

import { EMULATED_VERSION } from './commands/handshake.js';

/** The name mongod counts commands it does not know under, in `metrics.commands`. */
export const UNKNOWN_COMMAND = '<UNKNOWN>';

/**
 * mongod's `opcounters`, counted as mongod counts them, as commands arrive (failed ones too): `insert`,
 * `update` and `delete` per document or statement of those commands, `query` per find, `getmore` per
 * getMore, and `command` per any other command (findAndModify, aggregate, count, hello, ...). Also
 * `metrics.commands`: each command by name, how many arrived and how many failed.
 */
export class OperationCounters {
  private readonly commands = new Map<string, { total: number; failed: number }>();

  insert = 0;
  query = 0;
  update = 0;
  delete = 0;
  getmore = 0;
  command = 0;

  count(name: string, command: Document): void {
    const counts = this.commands.get(name);
    if (counts) counts.total += 1;
    else this.commands.set(name, { total: 1, failed: 0 });
    switch (name) {
      case 'insert':
        this.insert += statements(command.documents);
        return;
      case 'update':
        this.update += statements(command.updates);
        return;
      case 'delete':
        this.delete += statements(command.deletes);
        return;
      case 'find':
        this.query += 1;
        return;
      case 'getMore':
        this.getmore += 1;
        return;
      default:
        this.command += 1;
    }
  }

  failed(name: string): void {
    const counts = this.commands.get(name);
    if (counts) counts.failed += 1;
  }

  /** `metrics.commands`, as mongod reports it. */
  commandMetrics(): Document {
    return Object.fromEntries(
      [...this.commands].map(([name, { total, failed }]) => [
        name,
        { total: Long.fromNumber(total), failed: Long.fromNumber(failed) },
      ]),
    );
  }
}

function statements(list: unknown): number {
  return Array.isArray(list) ? list.length : 0;
}

/** What serverStatus reports of the server besides the counters. */
export interface ServerStatusSource {
  counters: OperationCounters;
  startedAt: Date;
  port(): number;
  /** Open client connections now, and since start. */
  connections(): { current: number; totalCreated: number };
}

/** mongod's limit on incoming connections, reported as `connections.available` with the current ones. */
const MAX_INCOMING_CONNECTIONS = 65_536;

/** The `serverStatus` reply: the process, its connections and its operation counters. */
export function serverStatus(source: ServerStatusSource): Document {
  const now = new Date();
  const uptimeMillis = now.getTime() - source.startedAt.getTime();
  const { current, totalCreated } = source.connections();
  const { counters } = source;
  return {
    host: `${hostname()}:${source.port()}`,
    version: EMULATED_VERSION,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis: Long.fromNumber(uptimeMillis),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
    localTime: now,
    connections: {
      current,
      available: MAX_INCOMING_CONNECTIONS - current,
      totalCreated,
    },
    opcounters: {
      insert: Long.fromNumber(counters.insert),
      query: Long.fromNumber(counters.query),
      update: Long.fromNumber(counters.update),
      delete: Long.fromNumber(counters.delete),
      getmore: Long.fromNumber(counters.getmore),
      command: Long.fromNumber(counters.command),
    },
    metrics: { commands: counters.commandMetrics() },
    ok: 1,
  };
}
