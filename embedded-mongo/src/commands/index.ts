import type { Document } from 'bson';

import { ErrorCode, fromQueryEngineError, MongoServerError } from '../errors.js';
import { serverStatus, UNKNOWN_COMMAND } from '../server-status.js';
import { validateCommandFields } from './command-fields.js';
import type { CommandContext, CommandHandler } from './context.js';
import { handshakeCommands } from './handshake.js';
import { namespaceCommands } from './namespaces.js';
import { readCommands } from './reads.js';
import { writeCommands } from './writes.js';

const handlers: Record<string, CommandHandler> = {
  ...handshakeCommands,
  ...namespaceCommands,
  ...readCommands,
  ...writeCommands,
  serverStatus: (context) => serverStatus(context.status),
};

const TRANSACTION_COMMANDS = new Set(['commitTransaction', 'abortTransaction']);
const NO_COMMANDS: Record<string, CommandHandler> = {};

/**
 * Runs one command and returns its reply; every failure becomes MongoDB's `{ok: 0}` error shape.
 * `extraCommands`: those the server has besides the standard ones (the test commands).
 */
export function executeCommand(
  context: Omit<CommandContext, 'db'>,
  command: Document,
  database: string,
  extraCommands: Record<string, CommandHandler> = NO_COMMANDS,
): Document {
  const name = Object.keys(command)[0] ?? '';
  const handler = Object.hasOwn(handlers, name)
    ? handlers[name]
    : Object.hasOwn(extraCommands, name)
      ? extraCommands[name]
      : undefined;
  const counted = handler ? name : UNKNOWN_COMMAND;
  context.status.counters.count(counted, command);
  try {
    // A standalone mongod refuses transactions and retryable-write numbers in exactly this way.
    if (
      command.txnNumber !== undefined ||
      command.startTransaction !== undefined ||
      TRANSACTION_COMMANDS.has(name)
    ) {
      throw new MongoServerError(
        ErrorCode.IllegalOperation,
        'Transaction numbers are only allowed on a replica set member or mongos',
      );
    }
    if (!handler) throw new MongoServerError(ErrorCode.CommandNotFound, `no such command: '${name}'`);
    validateCommandFields(name, command);
    return handler({ ...context, db: database }, command);
  } catch (error) {
    context.status.counters.failed(counted);
    return fromQueryEngineError(error).toReply();
  }
}

export const supportedCommands = Object.keys(handlers);
