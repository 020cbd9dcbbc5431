import type { Document } from 'bson';

import type { CommandContext, CommandHandler } from './context.js';

/** The MongoDB release whose standalone behaviour the embedded server follows. */
export const EMULATED_VERSION = '7.0.0';
const MAX_WIRE_VERSION = 21;

function hello(context: CommandContext, command: Document): Document {
  const reply: Document = {
    isWritablePrimary: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: context.connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
  if (command.helloOk === true) reply.helloOk = true;
  return reply;
}

/** The legacy spelling also answers `ismaster: true`, which pre-hello clients read. */
function isMaster(context: CommandContext, command: Document): Document {
  const { isWritablePrimary, ...rest } = hello(context, command);
  return { ismaster: isWritablePrimary, ...rest };
}

function buildInfo(): Document {
  return {
    version: EMULATED_VERSION,
    gitVersion: 'gen3d-embedded',
    versionArray: EMULATED_VERSION.split('.').map(Number).concat(0),
    bits: 64,
    debug: false,
    maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ['gen3d-embedded'],
    modules: [],
    ok: 1,
  };
}

function getParameter(_context: CommandContext, command: Document): Document {
  const reply: Document = { ok: 1 };
  if (command.featureCompatibilityVersion !== undefined || command.getParameter === '*') {
    reply.featureCompatibilityVersion = { version: EMULATED_VERSION.slice(0, 3) };
  }
  return reply;
}

export const handshakeCommands: Record<string, CommandHandler> = {
  hello,
  isMaster,
  ismaster: isMaster,
  ping: () => ({ ok: 1 }),
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  endSessions: () => ({ ok: 1 }),
  whatsmyuri: () => ({ you: '127.0.0.1', ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
};
