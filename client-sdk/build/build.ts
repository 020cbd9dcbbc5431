/**
 * Builds the publishable package into `dist/`: one ESM bundle (with @gen3d/shared inside it) and one
 * self-contained declaration file. Run by `pnpm build` and before `pnpm pack` / `pnpm publish`.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';
import { PUBLISHED_DEPENDENCIES, publishedTypesResolver } from './published-types.js';

const packageDirectory = dirname(dirname(fileURLToPath(import.meta.url)));
const declarationsDirectory = join(packageDirectory, 'build', 'declarations');
const distDirectory = join(packageDirectory, 'dist');

async function bundleJavaScript(): Promise<void> {
  await build({
    entryPoints: [join(packageDirectory, 'src', 'index.ts')],
    outfile: join(distDirectory, 'index.js'),
    bundle: true,
    format: 'esm',
    // Browsers and Node alike: nothing Node-only is pulled in, and `exports` conditions decide resolution.
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    external: [...PUBLISHED_DEPENDENCIES],
    logLevel: 'warning',
  });
}

function emitDeclarations(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(packageDirectory, 'tsconfig.build.json')], { stdio: 'inherit' });
}

async function bundleDeclarations(): Promise<void> {
  const bundle = await rollup({
    input: join(declarationsDirectory, 'client-sdk', 'src', 'index.d.ts'),
    plugins: [publishedTypesResolver(declarationsDirectory), dts({ respectExternal: true })],
  });
  await bundle.write({ file: join(distDirectory, 'index.d.ts'), format: 'es' });
  await bundle.close();
}

await rm(distDirectory, { recursive: true, force: true });
await rm(declarationsDirectory, { recursive: true, force: true });
await bundleJavaScript();
emitDeclarations();
await bundleDeclarations();
await rm(declarationsDirectory, { recursive: true, force: true });
// The package ships the repository's licence where npm and licence scanners look for it: its root.
await copyFile(join(packageDirectory, '..', 'LICENSE'), join(packageDirectory, 'LICENSE'));
