// Builds the demo page into dist/: the page, its styles and one script bundling @gen3d/client and
// <model-viewer>. The server serves dist/ as it is.
import { copyFile, mkdir, rm } from 'node:fs/promises';

import { build } from 'esbuild';

const source = new URL('./src/', import.meta.url);
const dist = new URL('./dist/', import.meta.url);

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [new URL('app.ts', source).pathname],
  outfile: new URL('app.js', dist).pathname,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
await Promise.all(
  ['index.html', 'styles.css'].map((file) => copyFile(new URL(file, source), new URL(file, dist))),
);
