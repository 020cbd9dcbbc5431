// The mesh pool's worker threads start here. Threads do not inherit the TypeScript loader of the process
// that runs the sources (tsx, vitest), so it is registered for this thread before the worker is imported;
// a compiled build ships mesh-worker.js beside this file and needs no loader.
import { existsSync } from 'node:fs';

const compiled = new URL('./mesh-worker.js', import.meta.url);
let worker;
if (existsSync(compiled)) {
  worker = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  worker = await import(new URL('./mesh-worker.ts', import.meta.url).href);
}

export default worker.default;
