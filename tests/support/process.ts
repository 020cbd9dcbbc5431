import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningProcess {
  child: ChildProcess;
  /** Every stdout line so far (the server logs JSON lines). */
  lines: string[];
  stderr(): string;
  /** The last stdout lines and all of stderr, to name in a failed assertion about the process. */
  output(lastLines?: number): string;
  /** Resolves with the first stdout line for which `predicate` holds. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a TypeScript entry point of the repository in its own Node process (no tsx wrapper process). */
export function runTypeScript(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
  stdin?: string,
): RunningProcess {
  return runNode(['--import', 'tsx', resolve(repositoryRoot, entry), ...args], {
    cwd: repositoryRoot,
    env,
    stdin,
  });
}

/** Runs Node with the arguments given, in `cwd`, with only PATH, HOME and `env` in its environment. */
export function runNode(
  nodeArgs: string[],
  options: { cwd: string; env: Record<string, string>; stdin?: string },
): RunningProcess {
  const { stdin } = options;
  const child = spawn(process.execPath, nodeArgs, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) child.stdin?.end(stdin);
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let buffered = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    output: (lastLines = 40) =>
      `stdout (last ${lastLines} lines):\n${lines.slice(-lastLines).join('\n')}\nstderr:\n${stderr}`,
    exited,
    waitForLine(predicate, timeoutMs = 120_000) {
      const existing = lines.find(predicate);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(
            new Error(
              `no matching line within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`,
            ),
          );
        }, timeoutMs);
        const listener = (line: string): void => {
          if (!predicate(line)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolveLine(line);
        };
        listeners.add(listener);
        void exited.then(() => {
          if (!listeners.has(listener)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          reject(
            new Error(
              `process exited before a matching line; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`,
            ),
          );
        });
      });
    },
  };
}

/** The parsed JSON log line, or undefined for other output. */
export function logLine(line: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command to completion and resolves with its stdout; rejects with its output when it exits non-zero. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolveRun(stdout);
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} exited with ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
    });
  });
}

/** Runs the repository's pinned pnpm (package.json's `packageManager`) through npx. */
export async function runPnpm(args: string[], cwd: string): Promise<string> {
  const { packageManager } = JSON.parse(await readFile(join(repositoryRoot, 'package.json'), 'utf8')) as {
    packageManager: string;
  };
  return runCommand('npx', ['--yes', packageManager, ...args], { cwd });
}
