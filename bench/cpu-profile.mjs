// Preload for `BENCH_NODE_OPTIONS="--import=<absolute path of this file>"`: CPU-profiles the gen3d server
// process, run from its sources or its build (only it; the benchmarks start other processes too), from its
// start to its exit. Node 20 refuses `--cpu-prof` in NODE_OPTIONS. The profile goes to
// <tmpdir>/gen3d-cpu-profiles/server-<pid>.cpuprofile; `pnpm exec tsx bench/profile-summary.ts <file>`
// summarises it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.argv.some((argument) => /server\/(src\/main\.ts|dist\/main\.js)$/.test(argument))) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-thread session answers synchronously, so the profile is written before the process ends.
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      const directory = join(tmpdir(), 'gen3d-cpu-profiles');
      mkdirSync(directory, { recursive: true });
      writeFileSync(join(directory, `server-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
