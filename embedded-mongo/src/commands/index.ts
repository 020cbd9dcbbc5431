import type { Document } from 'bson';

import { ErrorCode, fromQueryEngineError, MongoServerError } from '../errors.js';
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
};

const TRANSACTION_COMMANDS = new Set(['commitTransaction', 'abortTransaction']);

/** Runs one command and returns its reply; every failure becomes MongoDB's `{ok: 0}` error shape. */
export function executeCommand(
  context: Omit<CommandContext, 'db'>,
  command: Document,
  database: string,
): Document {
  const name = Object.keys(command)[0] ?? '';
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
    const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (!handler) throw new MongoServerError(ErrorCode.CommandNotFound, `no such command: '${name}'`);
    validateCommandFields(name, command);
    return handler({ ...context, db: database }, command);
  } catch (error) {
    return fromQueryEngineError(error).toReply();
  }
}

export const supportedCommands = Object.keys(handlers);
