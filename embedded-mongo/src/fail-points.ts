import { Long, type Document } from 'bson';

import { ErrorCode, MongoServerError } from './errors.js';

/**
 * mongod's `failCommand` fail point (src/mongo/db/commands.cpp, src/mongo/util/fail_point.cpp), for
 * servers started with test commands enabled: `configureFailPoint` sets its mode and data, and every
 * command a client sends is checked against it before it runs (error, closed connection, delay) and,
 * for commands that take a write concern, after it ran (`writeConcernError`).
 */

type Mode =
  | { kind: 'off' }
  | { kind: 'alwaysOn' }
  | { kind: 'times'; remaining: number }
  | { kind: 'skip'; remaining: number }
  | { kind: 'random'; probability: number };

/** What a client connection tells the fail point about itself. */
export interface FailPointClient {
  connectionId: number;
  /** `client.application.name` of the connection's `hello` handshake. */
  appName: string | undefined;
}

/** What the server does, in this order, to a command the fail point caught before it runs. */
export interface CommandFault {
  /** Delay the reply (the connection only; other connections are served meanwhile). */
  blockTimeMS: number;
  /** Close the socket without a reply; the command does not run. */
  closeConnection: boolean;
  /** Answer with this error instead of running the command. */
  errorReply: Document | undefined;
}

const FAIL_POINT_MESSAGE = "Failing command via 'failCommand' failpoint";
const FAIL_POINT_SET_FAILED = 111;
const UNAUTHORIZED = 13;
const MAX_TIME_MS_EXPIRED = 50;
const MAX_MODE_VALUE = 2_147_483_647;

/** Names of codes tests commonly inject (error_codes.yml); others are named `Location<code>` as mongod does. */
const INJECTED_CODE_NAMES: Record<number, string> = {
  1: 'InternalError',
  6: 'HostUnreachable',
  7: 'HostNotFound',
  8: 'UnknownError',
  24: 'LockTimeout',
  50: 'MaxTimeMSExpired',
  64: 'WriteConcernFailed',
  89: 'NetworkTimeout',
  91: 'ShutdownInProgress',
  100: 'UnsatisfiableWriteConcern',
  112: 'WriteConflict',
  189: 'PrimarySteppedDown',
  262: 'ExceededTimeLimit',
  9001: 'SocketException',
  10107: 'NotWritablePrimary',
  11600: 'InterruptedAtShutdown',
  11602: 'InterruptedDueToReplStateChange',
  13435: 'NotPrimaryNoSecondaryOk',
  13436: 'NotPrimaryOrSecondary',
};

/** Command names mongod treats as one command (`Command::hasAlias`). */
const CANONICAL_NAMES: Record<string, string> = {
  ismaster: 'isMaster',
  buildinfo: 'buildInfo',
  findandmodify: 'findAndModify',
};

/** Commands that take a write concern, where `writeConcernError` is appended to the reply. */
const WRITE_CONCERN_COMMANDS = new Set([
  'insert',
  'update',
  'delete',
  'findAndModify',
  'create',
  'drop',
  'dropDatabase',
  'createIndexes',
  'dropIndexes',
  'collMod',
  'renameCollection',
]);

function canonicalName(name: string): string {
  return CANONICAL_NAMES[name] ?? name;
}

function isInteger(value: unknown): value is number | Long {
  return (typeof value === 'number' && Number.isInteger(value)) || value instanceof Long;
}

function integerOf(value: number | Long): number {
  return typeof value === 'number' ? value : value.toNumber();
}

/** The integer of `{times: n}` or `{skip: n}`, checked as FailPoint::parseBSON checks it. */
function modeCount(value: unknown, field: 'times' | 'skip'): number {
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new MongoServerError(
      ErrorCode.BadValue,
      `Expected field "${field}" to have a value exactly representable as a 64-bit integer, but found ${value}`,
    );
  }
  if (!isInteger(value)) {
    throw new MongoServerError(
      ErrorCode.TypeMismatch,
      `"${field}" had the wrong type. Expected number, found ${typeof value}`,
    );
  }
  const count = integerOf(value);
  if (count < 0)
    throw new MongoServerError(ErrorCode.BadValue, `'${field}' option to 'mode' must be positive`);
  if (count > MAX_MODE_VALUE)
    throw new MongoServerError(ErrorCode.BadValue, `'${field}' option to 'mode' is too large`);
  return count;
}

function parseMode(value: unknown): Mode {
  if (value === undefined) {
    throw new MongoServerError(
      ErrorCode.IllegalOperation,
      "When setting a failpoint, you must supply a 'mode'",
    );
  }
  if (typeof value === 'string') {
    if (value === 'off') return { kind: 'off' };
    if (value === 'alwaysOn') return { kind: 'alwaysOn' };
    throw new MongoServerError(ErrorCode.BadValue, `unknown mode: ${value}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MongoServerError(ErrorCode.TypeMismatch, "'mode' must be a string or JSON object");
  }
  const mode = value as Document;
  if (Object.hasOwn(mode, 'times')) return { kind: 'times', remaining: modeCount(mode.times, 'times') };
  if (Object.hasOwn(mode, 'skip')) return { kind: 'skip', remaining: modeCount(mode.skip, 'skip') };
  if (Object.hasOwn(mode, 'activationProbability')) {
    const probability: unknown = mode.activationProbability;
    if (typeof probability !== 'number') {
      throw new MongoServerError(
        ErrorCode.TypeMismatch,
        "the 'activationProbability' option to 'mode' must be a double between 0 and 1",
      );
    }
    if (probability < 0 || probability > 1) {
      throw new MongoServerError(
        ErrorCode.BadValue,
        `activationProbability must be between 0.0 and 1.0; found ${probability}`,
      );
    }
    return { kind: 'random', probability };
  }
  throw new MongoServerError(
    ErrorCode.BadValue,
    "'mode' must be one of 'off', 'alwaysOn', '{times:n}', '{skip:n}' or '{activationProbability:p}'",
  );
}

function parseData(command: Document): Document {
  if (!Object.hasOwn(command, 'data')) return {};
  const data: unknown = command.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new MongoServerError(ErrorCode.TypeMismatch, "the 'data' option must be a JSON object");
  }
  return data as Document;
}

function codeNameOf(code: number): string {
  return INJECTED_CODE_NAMES[code] ?? new MongoServerError(code, '').codeName;
}

/** The namespace a command addresses, as `failCommand`'s `namespace` field names it. */
function namespaceOf(command: Document, name: string, database: string): string {
  const target: unknown = command[name];
  return typeof target === 'string' ? `${database}.${target}` : `${database}.$cmd`;
}

export class FailCommandPoint {
  private mode: Mode = { kind: 'off' };
  private data: Document = {};
  private timesEntered = 0;
  private readonly waiters = new Set<() => void>();
  private readonly knownCommands: ReadonlySet<string>;

  /** `knownCommands`: the server's command names; unknown commands fail as such, never by the fail point. */
  constructor(knownCommands: Iterable<string>) {
    this.knownCommands = new Set(knownCommands);
  }

  get active(): boolean {
    return this.mode.kind !== 'off';
  }

  /** `configureFailPoint`: sets the mode and data and answers how often the fail point was entered so far. */
  configure(command: Document, database: string): Document {
    this.checkAdmin('configureFailPoint', database);
    this.checkName(command.configureFailPoint);
    const mode = parseMode(command.mode);
    const data = parseData(command);
    this.mode = mode;
    this.data = mode.kind === 'off' ? {} : data;
    return { count: this.timesEntered, ok: 1 };
  }

  /**
   * `waitForFailPoint`: answers once the fail point was entered `timesEntered` times in all, or fails
   * with MaxTimeMSExpired after `maxTimeMS` (required, as mongod requires it).
   */
  async waitFor(command: Document, database: string): Promise<Document> {
    try {
      this.checkAdmin('waitForFailPoint', database);
      const maxTimeMS: unknown = command.maxTimeMS;
      if (!isInteger(maxTimeMS) || integerOf(maxTimeMS) <= 0) {
        throw new MongoServerError(ErrorCode.FailedToParse, 'Missing maxTimeMS');
      }
      const target: unknown = command.timesEntered;
      if (!isInteger(target)) {
        throw new MongoServerError(
          ErrorCode.TypeMismatch,
          `BSON field 'waitForFailPoint.timesEntered' is the wrong type, expected type 'long'`,
        );
      }
      this.checkName(command.waitForFailPoint);
      await this.entered(integerOf(target), integerOf(maxTimeMS));
      return { ok: 1 };
    } catch (error) {
      if (error instanceof MongoServerError) return error.toReply();
      throw error;
    }
  }

  private entered(target: number, maxTimeMS: number): Promise<void> {
    if (this.timesEntered >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        if (this.timesEntered < target) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new MongoServerError(MAX_TIME_MS_EXPIRED, 'operation exceeded time limit', {
            codeName: 'MaxTimeMSExpired',
          }),
        );
      }, maxTimeMS);
      // A wait pending when the server stops does not keep the process alive.
      timer.unref();
      this.waiters.add(waiter);
    });
  }

  private checkAdmin(commandName: string, database: string): void {
    if (database !== 'admin') {
      throw new MongoServerError(UNAUTHORIZED, `${commandName} may only be run against the admin database.`, {
        codeName: 'Unauthorized',
      });
    }
  }

  private checkName(name: unknown): void {
    if (name !== 'failCommand') {
      throw new MongoServerError(FAIL_POINT_SET_FAILED, `${typeof name === 'string' ? name : ''} not found`, {
        codeName: 'FailPointSetFailed',
      });
    }
  }

  /** Before a command runs: what the fail point does to it, or undefined to run it as usual. */
  faultBefore(command: Document, database: string, client: FailPointClient): CommandFault | undefined {
    const data = this.data;
    const closeConnection = data.closeConnection === true;
    const blockConnection = data.blockConnection === true;
    const hasErrorCode = isInteger(data.errorCode);
    if (!closeConnection && !blockConnection && !hasErrorCode) return undefined;
    if (!this.matches(command, database, client) || !this.enter()) return undefined;
    const fault: CommandFault = { blockTimeMS: 0, closeConnection, errorReply: undefined };
    if (blockConnection) {
      const blockTimeMS: unknown = data.blockTimeMS;
      if (!isInteger(blockTimeMS)) {
        fault.errorReply = this.errorReply(
          ErrorCode.InvalidOptions,
          "must specify 'blockTimeMS' when 'blockConnection' is true",
        );
        return { ...fault, closeConnection: false };
      }
      if (integerOf(blockTimeMS) < 0) {
        fault.errorReply = this.errorReply(ErrorCode.InvalidOptions, "'blockTimeMS' must be non-negative");
        return { ...fault, closeConnection: false };
      }
      fault.blockTimeMS = integerOf(blockTimeMS);
    }
    if (hasErrorCode)
      fault.errorReply = this.errorReply(integerOf(data.errorCode as number | Long), FAIL_POINT_MESSAGE);
    return fault;
  }

  /** After a command that takes a write concern ran: its reply with `writeConcernError` when the fail point says so. */
  afterCommand(command: Document, database: string, client: FailPointClient, reply: Document): Document {
    const writeConcernError: unknown = this.data.writeConcernError;
    if (writeConcernError === undefined) return reply;
    const name = canonicalName(Object.keys(command)[0] ?? '');
    if (!WRITE_CONCERN_COMMANDS.has(name) && !(name === 'aggregate' && writesOutput(command))) return reply;
    if (!this.matches(command, database, client) || !this.enter()) return reply;
    const labels = this.errorLabels();
    return { ...reply, writeConcernError, ...(labels ? { errorLabels: labels } : {}) };
  }

  /** CommandHelpers::shouldActivateFailCommandFailPoint for a client connection (never internal). */
  private matches(command: Document, database: string, client: FailPointClient): boolean {
    const name = Object.keys(command)[0] ?? '';
    if (name === 'configureFailPoint' || !this.knownCommands.has(name)) return false;
    const data = this.data;
    if (Object.hasOwn(data, 'threadName') && data.threadName !== `conn${client.connectionId}`) return false;
    if (Object.hasOwn(data, 'appName') && data.appName !== (client.appName ?? '')) return false;
    if (Object.hasOwn(data, 'namespace') && data.namespace !== namespaceOf(command, name, database))
      return false;
    if (Object.hasOwn(data, 'failAllCommands')) return true;
    const failCommands: unknown = data.failCommands;
    if (!Array.isArray(failCommands)) return false;
    const canonical = canonicalName(name);
    return failCommands.some((entry) => typeof entry === 'string' && canonicalName(entry) === canonical);
  }

  /** FailPoint::_slowShouldFailOpenBlock: whether the mode lets this matching command through to the fault. */
  private enter(): boolean {
    const mode = this.mode;
    let on: boolean;
    switch (mode.kind) {
      case 'off':
        on = false;
        break;
      case 'alwaysOn':
        on = true;
        break;
      case 'random':
        on = Math.random() < mode.probability;
        break;
      case 'times':
        mode.remaining -= 1;
        if (mode.remaining <= 0) this.mode = { kind: 'off' };
        on = true;
        break;
      case 'skip':
        on = mode.remaining <= 0 || --mode.remaining < 0;
        break;
    }
    if (on) {
      this.timesEntered += 1;
      for (const waiter of this.waiters) waiter();
    }
    return on;
  }

  private errorLabels(): unknown[] | undefined {
    const labels: unknown = this.data.errorLabels;
    return Array.isArray(labels) && labels.length > 0 ? labels : undefined;
  }

  private errorReply(code: number, message: string): Document {
    const labels = this.errorLabels();
    return {
      ok: 0,
      errmsg: message,
      code,
      codeName: codeNameOf(code),
      ...(labels ? { errorLabels: labels } : {}),
    };
  }
}

/** An aggregate ending in `$out` or `$merge` writes, so it takes a write concern. */
function writesOutput(command: Document): boolean {
  const pipeline: unknown = command.pipeline;
  if (!Array.isArray(pipeline) || pipeline.length === 0) return false;
  const last: unknown = pipeline[pipeline.length - 1];
  return typeof last === 'object' && last !== null && ('$out' in last || '$merge' in last);
}
