import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser } from '../support/accounts.js';
import { repositoryRoot, runCommand, runPnpm } from '../support/process.js';
import { useTestServer } from '../support/server.js';

// @gen3d/client as a third party gets it: `pnpm pack` (which builds it), installed with npm into a fresh
// project that has never seen this repository, typechecked strictly and run against a real server.

const suite = useTestServer({ modelDurationMs: 300 });
const consumerSources = resolve(repositoryRoot, 'tests/client/packed-consumer');

interface PackedManifest {
  exports: Record<string, Record<string, string>>;
  devDependencies?: unknown;
  scripts?: unknown;
  types: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

const state: {
  workspace?: string;
  tarball?: string;
  manifest?: PackedManifest;
  files?: string[];
  declarations?: string;
} = {};
const workspace = (): string => state.workspace ?? expect.fail('the consumer project was not set up');

beforeAll(async () => {
  state.workspace = await mkdtemp(join(tmpdir(), 'gen3d-client-consumer-'));
  const packed = join(state.workspace, 'packed');
  await runPnpm(['pack', '--pack-destination', packed], resolve(repositoryRoot, 'client-sdk'));
  const [tarballName] = await readdir(packed);
  state.tarball = join(packed, tarballName ?? expect.fail('pnpm pack wrote no tarball'));
  state.files = (await runCommand('tar', ['-tzf', state.tarball], { cwd: packed })).trim().split('\n').sort();
  await runCommand('tar', ['-xzf', state.tarball, 'package/package.json', 'package/dist/index.d.ts'], {
    cwd: packed,
  });
  state.manifest = JSON.parse(
    await readFile(join(packed, 'package', 'package.json'), 'utf8'),
  ) as PackedManifest;
  state.declarations = await readFile(join(packed, 'package', 'dist', 'index.d.ts'), 'utf8');

  const project = join(state.workspace, 'project');
  await cp(consumerSources, project, { recursive: true });
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'gen3d-consumer', private: true, type: 'module' }),
  );
  const peers = Object.entries(state.manifest.peerDependencies).map(([name, range]) => `${name}@${range}`);
  await runCommand(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      state.tarball,
      ...peers,
      'typescript@5.9.3',
      '@types/node@20',
    ],
    { cwd: project },
  );
}, 240_000);

afterAll(async () => {
  if (state.workspace) await rm(state.workspace, { recursive: true, force: true });
});

describe('the packed @gen3d/client', () => {
  it('holds the built bundle, its declarations, the README and the licence, and depends on published packages only', () => {
    expect(state.files).toEqual([
      'package/LICENSE',
      'package/README.md',
      'package/dist/index.d.ts',
      'package/dist/index.js',
      'package/dist/index.js.map',
      'package/package.json',
    ]);
    expect(state.manifest?.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(state.manifest?.types).toBe('./dist/index.d.ts');
    // Development-only fields stay in the workspace (.pnpmfile.cjs).
    expect(state.manifest?.devDependencies).toBeUndefined();
    expect(state.manifest?.scripts).toBeUndefined();
    const ranges = { ...state.manifest?.dependencies, ...state.manifest?.peerDependencies };
    expect(Object.keys(ranges).sort()).toEqual(['@trpc/client', '@trpc/server', 'eventsource', 'zod']);
    for (const range of Object.values(ranges)) expect(range).toMatch(/^\^\d+\.\d+\.\d+$/);
  });

  it('ships declarations that import only tRPC and zod, never server-only modules', () => {
    const imported = [...(state.declarations ?? '').matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map(
      (match) => match[1] as string,
    );
    expect(imported.length).toBeGreaterThan(0);
    expect(
      [
        ...new Set(
          imported.map((specifier) =>
            specifier
              .split('/')
              .slice(0, specifier.startsWith('@') ? 2 : 1)
              .join('/'),
          ),
        ),
      ].sort(),
    ).toEqual(['@trpc/client', '@trpc/server', 'zod']);
    expect(state.declarations).not.toMatch(/mongoose|fastify/i);
    // The router's procedures are spelled out, with their inputs and outputs.
    expect(state.declarations).toMatch(/generation: \w+\.TRPCBuiltRouter</);
  });

  it('typechecks in a strict Node project without skipLibCheck, with the procedures fully typed', async () => {
    await runCommand(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.node.json'], {
      cwd: join(workspace(), 'project'),
    });
  }, 60_000);

  it('typechecks in a browser project with the DOM library and no Node types', async () => {
    await runCommand(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.browser.json'], {
      cwd: join(workspace(), 'project'),
    });
  }, 60_000);

  it('logs in, reports typed errors, generates with progress and reaches the files of a real server', async () => {
    const admin = await signInNewAdmin(suite.server, 'packed-admin@example.com');
    await signInNewUser(suite.server, admin, 'packed-user@example.com', 'packed password 1');
    const project = join(workspace(), 'project');
    await runCommand(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.node.json'], {
      cwd: project,
    });
    const output = await runCommand(process.execPath, ['out/node-app.js'], {
      cwd: project,
      env: {
        GEN3D_URL: suite.server.url,
        GEN3D_EMAIL: 'packed-user@example.com',
        GEN3D_PASSWORD: 'packed password 1',
      },
    });
    const report = JSON.parse(output) as { updates: string[]; fileSizes: number[] } & Record<string, unknown>;
    expect(report).toMatchObject({
      serverName: 'gen3d',
      wrongPasswordCode: 'INVALID_CREDENTIALS',
      unknownJob: { code: 'NOT_FOUND', status: 404 },
      schemaRejectsMissingPassword: true,
      userName: 'packed-user',
      jobStatus: 'succeeded',
      formats: ['glb', 'mtl', 'obj', 'ply'],
    });
    expect(report.updates[0]).toBe('queued');
    expect(report.updates).toContain('running');
    expect(report.updates.at(-1)).toBe('succeeded');
    for (const size of report.fileSizes) expect(size).toBeGreaterThan(0);
  }, 90_000);
});
