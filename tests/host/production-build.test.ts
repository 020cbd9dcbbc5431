import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { logLine, repositoryRoot, runNode, runPnpm, type RunningProcess } from '../support/process.js';

// What the Dockerfile does: build the server and the packages it uses, then a deploy with production
// dependencies only, started by `node` alone.
const deployDirectory = join(mkdtempSync(join(tmpdir(), 'gen3d-deploy-')), 'server');
let server: RunningProcess | undefined;

/** The arguments the Dockerfile's CMD gives node, which `start:prod` passes too. */
function dockerfileNodeArguments(): string[] {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(repositoryRoot, 'Dockerfile'), 'utf8'))?.[1];
  const [program, ...args] = JSON.parse(cmd ?? '[]') as string[];
  expect(program).toBe('node');
  return args;
}

beforeAll(async () => {
  await runPnpm(['--filter', '@gen3d/server...', 'build'], repositoryRoot);
  await runPnpm(
    ['--filter', '@gen3d/server', 'deploy', '--prod', '--legacy', deployDirectory],
    repositoryRoot,
  );
}, 600_000);

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
});

describe('the production build', () => {
  it(
    'runs with node alone from a deploy without development dependencies and gives start-up memory back',
    { timeout: 150_000 },
    async () => {
      const scripts = (file: string): Record<string, string> =>
        (JSON.parse(readFileSync(join(repositoryRoot, file), 'utf8')) as { scripts: Record<string, string> })
          .scripts;
      expect(scripts('server/package.json')['start:prod']).toBe(
        `node ${dockerfileNodeArguments().join(' ')}`,
      );
      expect(scripts('package.json')['start:prod']).toBe(
        `node ${dockerfileNodeArguments().join(' ').replace('dist/main.js', 'server/dist/main.js')}`,
      );
      for (const devOnly of ['tsx', 'vitest', 'esbuild', 'typescript-eslint'])
        expect(existsSync(join(deployDirectory, 'node_modules', devOnly)), devOnly).toBe(false);
      expect(existsSync(join(deployDirectory, 'dist', 'main.js'))).toBe(true);

      const env: Record<string, string> = {
        NODE_ENV: 'development',
        PORT: '0',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'gen3d-data-')),
        DEMO_DIR: join(repositoryRoot, 'demo', 'dist'),
      };
      if (process.env.MONGODB_URI) env.MONGODB_URI = process.env.MONGODB_URI;
      server = runNode(dockerfileNodeArguments(), { cwd: deployDirectory, env });
      const listening = await server.waitForLine(
        (line) => logLine(line)?.msg === 'gen3d is listening',
        90_000,
      );
      const address = String(logLine(listening)?.address);

      expect(await (await fetch(`${address}/health`)).json()).toEqual({ ok: true });
      const overTrpc = (await (await fetch(`${address}/trpc/system.info`)).json()) as {
        result: { data: { name: string; database: { reachable: boolean } } };
      };
      expect(overTrpc.result.data).toMatchObject({ name: 'gen3d', database: { reachable: true } });
      const overRest = await fetch(`${address}/api/system/info`);
      expect(overRest.status).toBe(200);
      expect(await overRest.json()).toMatchObject({ name: 'gen3d' });
      const login = await fetch(`${address}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'nobody@example.com', password: 'not a password of anyone' }),
      });
      expect(login.status).toBe(401);
      expect(await login.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });

      // With --expose-gc, as the start commands run it, the idle server gives start-up's memory back once.
      const collected = logLine(
        await server.waitForLine(
          (line) => logLine(line)?.msg === 'memory-reducing collection after start-up',
          30_000,
        ),
      ) as { rssBeforeMiB: number; rssAfterMiB: number } | undefined;
      expect(collected).toMatchObject({ rssBeforeMiB: expect.any(Number), rssAfterMiB: expect.any(Number) });
      // Node 20's V8 has no memory-reducing collection: there the call changes nothing.
      if (Number(process.versions.node.split('.')[0]) >= 22)
        expect(collected?.rssAfterMiB).toBeLessThan(collected?.rssBeforeMiB ?? 0);
    },
  );
});
