import type { JobModel } from './job-model.js';

export interface RunDurationsOptions {
  /** How many of a server's latest succeeded jobs are looked at. */
  sampleSize: number;
  /** How long a figure is reused. */
  cacheMs: number;
}

/** What one model server's jobs take to run, from the latest that succeeded. */
export interface RunDurations {
  /** The median run time (ms) of the server's latest succeeded jobs; undefined before any succeeded. */
  typicalMs(modelServer: string): Promise<number | undefined>;
  /** Reads the server's figure again next time (one of its jobs just succeeded). */
  forget(modelServer: string): void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : Math.round(((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2);
}

export function createRunDurations(jobs: JobModel, options: RunDurationsOptions): RunDurations {
  const cache = new Map<string, { at: number; value: Promise<number | undefined> }>();

  async function read(modelServer: string): Promise<number | undefined> {
    const latest = await jobs
      .find(
        { 'params.modelServer': modelServer, status: 'succeeded', computeMs: { $ne: null } },
        { computeMs: 1 },
      )
      .sort({ finishedAt: -1 })
      .limit(options.sampleSize)
      .lean<Array<{ computeMs: number }>>();
    return latest.length === 0 ? undefined : median(latest.map((job) => job.computeMs));
  }

  return {
    typicalMs(modelServer) {
      const cached = cache.get(modelServer);
      if (cached && Date.now() - cached.at < options.cacheMs) return cached.value;
      const value = read(modelServer);
      cache.set(modelServer, { at: Date.now(), value });
      // A failed read is not kept.
      value.catch(() => cache.delete(modelServer));
      return value;
    },
    forget(modelServer) {
      cache.delete(modelServer);
    },
  };
}
