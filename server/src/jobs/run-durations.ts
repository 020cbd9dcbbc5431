import type { Types } from 'mongoose';

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
  /** One of the server's jobs just succeeded: it is now the latest of its sample. */
  succeeded(job: { id: string; modelServer: string; computeMs: number }): void;
}

/** A succeeded job's run time. */
interface RunTime {
  id: string;
  computeMs: number;
}

function median(runs: RunTime[]): number | undefined {
  if (runs.length === 0) return undefined;
  const sorted = runs.map((run) => run.computeMs).sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : Math.round(((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2);
}

export function createRunDurations(jobs: JobModel, options: RunDurationsOptions): RunDurations {
  /** Each server's latest run times, newest first, as read and as this instance saw jobs succeed since. */
  const samples = new Map<string, { at: number; latest: Promise<RunTime[]> }>();

  async function read(modelServer: string): Promise<RunTime[]> {
    const latest = await jobs
      .find(
        { 'params.modelServer': modelServer, status: 'succeeded', computeMs: { $ne: null } },
        { computeMs: 1 },
      )
      .sort({ finishedAt: -1 })
      .limit(options.sampleSize)
      .lean<Array<{ _id: Types.ObjectId; computeMs: number }>>();
    return latest.map((job) => ({ id: job._id.toHexString(), computeMs: job.computeMs }));
  }

  return {
    async typicalMs(modelServer) {
      const cached = samples.get(modelServer);
      if (cached && Date.now() - cached.at < options.cacheMs) return median(await cached.latest);
      const latest = read(modelServer);
      const entry = { at: Date.now(), latest };
      samples.set(modelServer, entry);
      // A failed read is not kept.
      latest.catch(() => {
        if (samples.get(modelServer) === entry) samples.delete(modelServer);
      });
      return median(await latest);
    },
    succeeded({ id, modelServer, computeMs }) {
      const cached = samples.get(modelServer);
      if (!cached) return;
      // The newest success leads the sample at once, as a read would show it (a job seen twice counts
      // once); successes this instance did not see show when the sample is read again.
      const latest = cached.latest.then((runs) =>
        runs.some((run) => run.id === id) ? runs : [{ id, computeMs }, ...runs].slice(0, options.sampleSize),
      );
      latest.catch(() => undefined);
      samples.set(modelServer, { at: cached.at, latest });
    },
  };
}
