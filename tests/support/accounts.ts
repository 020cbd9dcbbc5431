import { expect } from 'vitest';

import { runTypeScript } from './process.js';
import { callRest } from './rest.js';
import type { TestServer } from './server.js';

export interface SignedIn {
  id: string;
  email: string;
  token: string;
  refreshToken: string;
}

/** Runs one of the admin scripts in scripts/ against the server's database. */
export async function runAdminScript(
  server: TestServer,
  name: string,
  args: string[],
): Promise<{ code: number | null; output: string }> {
  const child = runTypeScript(
    `scripts/${name}.ts`,
    { MONGODB_URI: server.mongodbUri, JWT_SECRET: server.config.jwtSecret },
    args,
  );
  const { code } = await child.exited;
  return { code, output: `${child.lines.join('\n')}\n${child.stderr()}` };
}

/** Logs in over REST, failing the test unless the server answers 200. */
export async function logIn(server: TestServer, email: string, password: string): Promise<SignedIn> {
  const answer = await callRest(server.url, 'POST', '/auth/login', { email, password });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const user = answer.body.user as { id: string };
  return {
    id: user.id,
    email,
    token: String(answer.body.token),
    refreshToken: String(answer.body.refreshToken),
  };
}

/** An admin made the way operators make one (the create-admin script), signed in. */
export async function signInNewAdmin(
  server: TestServer,
  email = 'root@example.com',
  password = 'admin password 1',
): Promise<SignedIn> {
  const created = await runAdminScript(server, 'create-admin', ['--email', email, '--password', password]);
  expect(created.code, created.output).toBe(0);
  return logIn(server, email, password);
}

/** A verified account created by an admin over REST, signed in. */
export async function signInNewUser(
  server: TestServer,
  admin: SignedIn,
  email: string,
  password = 'user password 1',
): Promise<SignedIn> {
  const created = await callRest(
    server.url,
    'POST',
    '/users',
    { email, userName: email.split('@')[0], password },
    admin.token,
  );
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return logIn(server, email, password);
}

/** A password the strength check accepts, for tests about something else. */
export const STRONG_PASSWORD = 'correct horse battery staple';
