import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { databaseUri, uniqueDatabaseName } from '../support/database.js';
import {
  APP_NAME,
  databaseNameOf,
  startFaultDatabase,
  withAppName,
  type FaultDatabase,
} from '../support/fail-points.js';
import { callRest } from '../support/rest.js';
import { startTestServer, type TestServer } from '../support/server.js';

/*
 * A refresh is one conditional write on the session's family document. When the database fails that
 * write, the client gets a clear error and its refresh token stays what the design says it is: still the
 * current one when the write did not happen, or the one just rotated out (usable within the grace) when it
 * happened but the answer reported a failure.
 */

let faults: FaultDatabase;
let strict: TestServer;
let lenient: TestServer;

beforeAll(async () => {
  faults = await startFaultDatabase();
  if (!faults.failCommand) return;
  const { database } = faults;
  const start = (grace: string): Promise<TestServer> =>
    startTestServer(database, {
      env: { AUTH_RATE_LIMIT_MAX: '1000', REFRESH_REUSE_GRACE_SECONDS: grace },
      mongodbUri: withAppName(databaseUri(database, uniqueDatabaseName('refresh_faults'))),
    });
  strict = await start('0');
  lenient = await start('30');
});

afterAll(async () => {
  await faults.stop(async () => {
    await lenient?.close();
    await strict?.close();
  });
});

/** The namespace of the refresh-token families in the server's database. */
function familiesNamespace(server: TestServer): string {
  const collection = server.app.database.connection.model('RefreshFamily').collection.collectionName;
  return `${databaseNameOf(server.mongodbUri)}.${collection}`;
}

async function signedInUser(server: TestServer, email: string): Promise<SignedIn> {
  return signInNewUser(server, await signInNewAdmin(server, `root-${email}`), email);
}

function refresh(server: TestServer, refreshToken: string) {
  return callRest(server.url, 'POST', '/auth/refresh', { refreshToken });
}

describe('a refresh whose rotation write fails', () => {
  it('answers a clear error without the token, and the same token still refreshes (it was never consumed)', async (context) => {
    const { failCommand } = faults;
    if (!failCommand) return context.skip(faults.skipReason);
    const user = await signedInUser(strict, 'rotation-fails@example.com');
    await failCommand.set(
      { times: 1 },
      {
        failCommands: ['update'],
        namespace: familiesNamespace(strict),
        appName: APP_NAME,
        errorCode: 91,
      },
    );
    const failed = await refresh(strict, user.refreshToken);
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ code: 'INTERNAL', statusCode: 500 });
    expect(String(failed.body.error)).toMatch(/^Internal server error \(request id .+\)$/);
    expect(JSON.stringify(failed.body)).not.toContain(user.refreshToken);
    expect(failed.body).not.toHaveProperty('refreshToken');

    // No grace here: only the current token refreshes, so this proves the failed write consumed nothing.
    const retried = await refresh(strict, user.refreshToken);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const next = String(retried.body.refreshToken);
    expect(next).not.toBe(user.refreshToken);
    expect(
      (await callRest(strict.url, 'GET', '/auth/me', undefined, String(retried.body.token))).status,
    ).toBe(200);
    // The session goes on normally: the new token rotates in turn.
    expect((await refresh(strict, next)).status).toBe(200);
  });

  it('a write that happened but answered a failure (writeConcernError): the token refreshes again within the grace, in the same session', async (context) => {
    const { failCommand } = faults;
    if (!failCommand) return context.skip(faults.skipReason);
    const user = await signedInUser(lenient, 'answer-lost@example.com');
    await failCommand.set(
      { times: 1 },
      {
        failCommands: ['update'],
        namespace: familiesNamespace(lenient),
        appName: APP_NAME,
        writeConcernError: {
          code: 91,
          codeName: 'ShutdownInProgress',
          errmsg: 'Replication is being shut down',
        },
      },
    );
    const failed = await refresh(lenient, user.refreshToken);
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ code: 'INTERNAL' });

    const retried = await refresh(lenient, user.refreshToken);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const token = String(retried.body.token);
    expect((await callRest(lenient.url, 'GET', '/auth/me', undefined, token)).status).toBe(200);
    // Same session: the access token from login still works (a reuse would have ended every session).
    expect((await callRest(lenient.url, 'GET', '/auth/me', undefined, user.token)).status).toBe(200);
    expect((await refresh(lenient, String(retried.body.refreshToken))).status).toBe(200);
  });
});
