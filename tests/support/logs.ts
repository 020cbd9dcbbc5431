import type { FastifyBaseLogger } from 'fastify';

import { createLogger, loadConfig } from '@gen3d/server';

export type LogEntry = Record<string, unknown>;

export interface CapturedLog {
  /** A server logger (the server's own options: level, redaction) writing into `entries`. */
  logger: FastifyBaseLogger;
  entries: LogEntry[];
  /** Resolves with the first entry, logged so far or later, for which `predicate` holds. */
  waitFor(predicate: (entry: LogEntry) => boolean): Promise<LogEntry>;
}

/** A logger whose JSON lines the test reads, at `info` and above unless told. */
export function captureLog(level: 'info' | 'warn' | 'debug' = 'info'): CapturedLog {
  const entries: LogEntry[] = [];
  const waiters = new Set<() => void>();
  const { config } = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: level });
  const logger = createLogger(config, {
    write(line: string) {
      entries.push(JSON.parse(line) as LogEntry);
      for (const wake of [...waiters]) wake();
    },
  });
  return {
    logger,
    entries,
    waitFor(predicate) {
      return new Promise((resolve) => {
        const check = (): boolean => {
          const found = entries.find(predicate);
          if (found) {
            waiters.delete(check);
            resolve(found);
          }
          return found !== undefined;
        };
        if (!check()) waiters.add(check);
      });
    },
  };
}

/** What the worker logged about a job's last failed attempt: the failure's own words (never shown to users). */
export async function failureDetail(log: CapturedLog, jobId: string): Promise<string> {
  await log.waitFor((entry) => entry.jobId === jobId && entry.code !== undefined);
  const failures = log.entries.filter((entry) => entry.jobId === jobId && entry.code !== undefined);
  return String(failures.at(-1)?.detail ?? failures.at(-1)?.msg);
}
