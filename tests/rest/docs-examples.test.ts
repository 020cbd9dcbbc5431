import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin } from '../support/accounts.js';
import { repositoryRoot } from '../support/process.js';
import { useTestServer } from '../support/server.js';

/**
 * docs/api.md's curl examples, run as the page says: every `sh` block in order, in one shell, with the
 * real curl binary, GEN3D set to a real server and TOKEN to the access token of the admin the page names.
 */

const run = promisify(execFile);
const page = readFileSync(join(repositoryRoot, 'docs/api.md'), 'utf8');
const shellBlocks = [...page.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
/** Each curl command with its continuation lines joined. */
const curlCommands = shellBlocks
  .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
  .filter((line) => /\bcurl\b/.test(line));
const failsOnHttpErrors = /(^|\s)(-[a-zA-Z]*f[a-zA-Z]*|--fail|--fail-with-body)(\s|$)/;

const suite = useTestServer();
let token = '';

beforeAll(async () => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('curl is not installed: these tests run the documented examples with it');
  }
  token = (await signInNewAdmin(suite.server, 'me@example.com', 'a long password')).token;
});

describe('docs/api.md curl examples', () => {
  it('are there, and each one fails on an HTTP error status', () => {
    expect(shellBlocks.length).toBeGreaterThanOrEqual(4);
    expect(curlCommands.length).toBeGreaterThanOrEqual(15);
    for (const command of curlCommands) {
      expect(command, 'an example without -f would pass on a 4xx').toMatch(failsOnHttpErrors);
      expect(command).toContain('"$GEN3D/');
    }
  });

  it('all run in order against a real server, each exiting 0 with a 2xx answer', async () => {
    const script = [
      'set -euo pipefail',
      `trap 'echo "example failed (exit $?): $BASH_COMMAND" >&2' ERR`,
      ...shellBlocks,
    ].join('\n');
    const env = {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '',
      GEN3D: suite.server.url,
      TOKEN: token,
    };
    const result = await run('bash', ['-c', script], { env, timeout: 180_000 }).catch(
      (error: { code?: number; stdout?: string; stderr?: string }) => {
        throw new Error(`the examples failed (exit ${error.code}):\n${error.stderr}\n${error.stdout}`);
      },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('{"ok":true}');
    expect(result.stdout).toContain('"email":"me@example.com"');
    expect(result.stdout).toContain('"prompt":"a red low-poly fox"');
    expect(result.stdout).toMatch(/"files":\{"glb":"http/);
    expect(result.stdout).toContain('"jobsPerDay"');
  });
});
