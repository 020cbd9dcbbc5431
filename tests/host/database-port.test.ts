import { connect } from 'node:net';

import { describe, expect, it } from 'vitest';

import { signInNewAdmin } from '../support/accounts.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer();

/** The report's 26-byte OP_MSG: one document sequence whose size field is -1. */
function frameWithNegativeSection(): Buffer {
  const frame = Buffer.alloc(26);
  frame.writeInt32LE(26, 0);
  frame.writeInt32LE(1, 4);
  frame.writeInt32LE(2013, 12);
  frame.writeUInt8(1, 20);
  frame.writeInt32LE(-1, 21);
  return frame;
}

describe('the database port (embedded server)', () => {
  // With MONGODB_URI the database is a real mongod, not part of this process.
  it.skipIf(Boolean(process.env.MONGODB_URI))(
    'closes a connection that sends a malformed frame while the API keeps answering',
    async () => {
      const { port } = new URL(suite.database.uri);
      const closed = await new Promise<boolean>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(frameWithNegativeSection()));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(true));
      });
      expect(closed).toBe(true);
      expect((await fetch(`${suite.server.url}/health`)).status).toBe(200);
      // The database still serves the API: an account is created and signed in.
      expect((await signInNewAdmin(suite.server)).token).toEqual(expect.any(String));
    },
  );
});
