import { fork } from 'node:child_process';

/** The embedded server running in a process of its own for a benchmark (embedded-db-process.ts). */
export interface EmbeddedServerProcess {
  uri: string;
  /** CPU time (user + system, µs) the server process has used so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the server process, durable in `dataDir` or in memory; `cpuProfileDir` CPU-profiles it there. */
export async function startEmbeddedServerProcess(
  dataDir: string | undefined,
  cpuProfileDir?: string,
): Promise<EmbeddedServerProcess> {
  const profiling = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const child = fork(new URL('./embedded-db-process.ts', import.meta.url), {
    execArgv: ['--import', 'tsx', ...profiling],
    env: { ...process.env, BENCH_DATA_DIR: dataDir ?? '' },
  });
  const uri = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { uri: string }) => resolve(message.uri));
    child.once('error', reject);
  });
  return {
    uri,
    cpuMicros: async () => {
      const reply = new Promise<NodeJS.CpuUsage>((resolve) => {
        const onMessage = (message: { cpu?: NodeJS.CpuUsage }): void => {
          if (!message.cpu) return;
          child.off('message', onMessage);
          resolve(message.cpu);
        };
        child.on('message', onMessage);
      });
      child.send('cpu');
      const { user, system } = await reply;
      return user + system;
    },
    stop: async () => {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
