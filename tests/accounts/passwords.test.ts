import { spawn } from 'node:child_process';

import argon2 from 'argon2';
import { describe, expect, it } from 'vitest';

import { repositoryRoot, runTypeScript } from '../support/process.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

const suite = useTestServer();

describe('password storage', () => {
  it('rehashes a password stored with weaker argon2 parameters at the next login', async () => {
    const users = suite.server.app.database.connection.collection('users');
    const weak = await argon2.hash('an old password', {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    });
    await users.insertOne({
      email: 'old@example.com',
      userName: 'Old',
      passwordHash: weak,
      roles: ['user'],
      emailVerified: true,
      active: true,
      profile: { avatarUrl: null, bio: '' },
      settings: { theme: 'system', language: 'en', notifications: true },
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    expect(
      (
        await callRest(suite.server.url, 'POST', '/auth/login', {
          email: 'old@example.com',
          password: 'an old password',
        })
      ).status,
    ).toBe(200);
    const stored = await users.findOne({ email: 'old@example.com' });
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(
      (
        await callRest(suite.server.url, 'POST', '/auth/login', {
          email: 'old@example.com',
          password: 'an old password',
        })
      ).status,
    ).toBe(200);
  });

  it('create-admin reads the password from standard input when --password is left out, and stores only a hash', async () => {
    const child = runTypeScript(
      'scripts/create-admin.ts',
      {
        MONGODB_URI: suite.server.mongodbUri,
        JWT_SECRET: 'test-secret-that-is-long-enough-for-the-config-check',
      },
      ['--email', 'piped@example.com'],
      'piped admin password\n',
    );
    expect((await child.exited).code, child.stderr()).toBe(0);
    expect(child.lines.join('\n')).not.toContain('piped admin password');
    const stored = await suite.server.app.database.connection
      .collection('users')
      .findOne({ email: 'piped@example.com' });
    expect(stored?.roles).toEqual(['user', 'admin']);
    expect(JSON.stringify(stored)).not.toContain('piped admin password');
    expect(
      (
        await callRest(suite.server.url, 'POST', '/auth/login', {
          email: 'piped@example.com',
          password: 'piped admin password',
        })
      ).status,
    ).toBe(200);
  });

  it('create-admin asks on a terminal without echoing the password', async () => {
    // `script` (util-linux) runs the command on a pseudo-terminal, as if an operator typed at it.
    const command = `${process.execPath} --import tsx scripts/create-admin.ts --email tty@example.com`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: repositoryRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        MONGODB_URI: suite.server.mongodbUri,
        JWT_SECRET: suite.server.config.jwtSecret,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    const prompted = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        screen += chunk;
        if (screen.includes('Password for the new admin:')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await prompted;
    child.stdin.write('typed admin password\r');
    expect(await exited, screen).toBe(0);
    child.stdin.end();
    expect(screen).toContain('created admin tty@example.com');
    expect(screen).not.toContain('typed admin password');
    expect(
      (
        await callRest(suite.server.url, 'POST', '/auth/login', {
          email: 'tty@example.com',
          password: 'typed admin password',
        })
      ).status,
    ).toBe(200);
  });

  it('create-admin stops with its usage when standard input ends before a password', async () => {
    const child = runTypeScript(
      'scripts/create-admin.ts',
      { MONGODB_URI: suite.server.mongodbUri, JWT_SECRET: suite.server.config.jwtSecret },
      ['--email', 'nobody-typed@example.com'],
      '',
    );
    expect((await child.exited).code).toBe(2);
    expect(child.stderr()).toContain('standard input ended');
    expect(
      await suite.server.app.database.connection
        .collection('users')
        .countDocuments({ email: 'nobody-typed@example.com' }),
    ).toBe(0);
  });
});
