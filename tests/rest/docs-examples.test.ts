import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin } from '../support/accounts.js';
import { repositoryRoot } from '../support/process.js';
import { useTestServer } from '../support/server.js';

/**
 * The curl examples of the README and of every page in docs/, run as the pages say: a page's `sh` blocks
 * that hold curl, in order, in one shell, with the real curl binary and GEN3D set to a real server.
 */

const run = promisify(execFile);
/** Every markdown page users read, and the `sh` blocks of it that call curl. */
const pages = ['README.md', ...readdirSync(join(repositoryRoot, 'docs')).map((name) => `docs/${name}`)]
  .filter((path) => path.endsWith('.md'))
  .map((path) => {
    const text = readFileSync(join(repositoryRoot, path), 'utf8');
    const blocks = [...text.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```$/gm)].map(
      (match) => match[1] as string,
    );
    return { path, blocks: blocks.filter((block) => /\bcurl\b/.test(block)) };
  })
  .filter((page) => page.blocks.length > 0);
const blocksOf = (path: string): string[] => pages.find((page) => page.path === path)?.blocks ?? [];
/** Each curl command with its continuation lines joined. */
const curlCommandsOf = (blocks: string[]): string[] =>
  blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .filter((line) => /\bcurl\b/.test(line));
const failsOnHttpErrors = /(^|\s)(-[a-zA-Z]*f[a-zA-Z]*|--fail|--fail-with-body)(\s|$)/;
/** The pages whose examples the tests below run. */
const RUN_PAGES = ['README.md', 'docs/api.md'];

/** Runs `blocks` in one bash with `set -euo pipefail`; fails naming the command that failed. */
async function runExamples(blocks: string[], env: Record<string, string>, cwd = repositoryRoot) {
  const script = [
    'set -euo pipefail',
    `trap 'echo "example failed (exit $?): $BASH_COMMAND" >&2' ERR`,
    ...blocks,
  ].join('\n');
  return run('bash', ['-c', script], {
    cwd,
    env: {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '',
      ...env,
    },
    timeout: 180_000,
  }).catch((error: { code?: number; stdout?: string; stderr?: string }) => {
    throw new Error(`the examples failed (exit ${error.code}):\n${error.stderr}\n${error.stdout}`);
  });
}

beforeAll(() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('curl is not installed: these tests run the documented examples with it');
  }
});

describe('curl examples in the docs', () => {
  it('are on pages whose examples a test runs, and each one fails on an HTTP error status', () => {
    expect(pages.map((page) => page.path).sort()).toEqual([...RUN_PAGES].sort());
    for (const page of pages)
      for (const command of curlCommandsOf(page.blocks)) {
        expect(command, `${page.path}: an example without -f would pass on a 4xx`).toMatch(failsOnHttpErrors);
        expect(command, `${page.path}: examples call "$GEN3D/..."`).toContain('"$GEN3D/');
      }
    expect(curlCommandsOf(blocksOf('docs/api.md')).length).toBeGreaterThanOrEqual(15);
  });
});

describe("the README's quick start", () => {
  const suite = useTestServer();

  it('runs against a real server: health, the admin made with create-admin, a generated model', async () => {
    // The page sets GEN3D to the default address; here it is the test server's.
    const blocks = blocksOf('README.md').map((block) => block.replace(/^GEN3D=.*$/m, ''));
    const result = await runExamples(blocks, {
      GEN3D: suite.server.url,
      MONGODB_URI: suite.server.mongodbUri,
      JWT_SECRET: suite.server.config.jwtSecret,
    });
    expect(result.stdout).toContain('{"ok":true,"database":"up"}');
    expect(result.stdout).toMatch(/"files":\{"glb":"http/);
  });
});

describe('docs/api.md curl examples', () => {
  const suite = useTestServer();
  let token = '';
  beforeAll(async () => {
    token = (await signInNewAdmin(suite.server, 'me@example.com', 'a long password')).token;
  });

  it('all run in order against a real server, each exiting 0 with a 2xx answer', async () => {
    const result = await runExamples(blocksOf('docs/api.md'), { GEN3D: suite.server.url, TOKEN: token });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('{"ok":true}');
    expect(result.stdout).toContain('"email":"me@example.com"');
    expect(result.stdout).toContain('"prompt":"a red low-poly fox"');
    expect(result.stdout).toMatch(/"files":\{"glb":"http/);
    expect(result.stdout).toContain('"jobsPerDay"');
  });
});
