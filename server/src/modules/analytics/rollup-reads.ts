import type { Types } from 'mongoose';

import { zoneOffsetMinutes } from '@gen3d/shared/time-zones';

import { HOUR_MS, nameOf } from './rollup-increments.js';
import type { PromptRollupRecord, RollupModels, RollupRecord } from './rollup-model.js';

/** Jobs of one status (decoded), as the pipelines' `{_id: status, count}` rows. */
export type StatusRow = { _id: string; count: number };

export interface DayFigures {
  count: number;
  succeeded: number;
  failed: number;
  assets: number;
  bytes: number;
}

export interface ServerFigures {
  total: number;
  succeeded: number;
  failed: number;
  msSum: number;
  msCount: number;
}

export interface MetricsFigures {
  statuses: StatusRow[];
  servers: Map<string, ServerFigures>;
  failures: Map<string, number>;
  /** Succeeded jobs' durations: value → how many. */
  durations: Map<number, number>;
}

const sum = (counts: Partial<Record<string, number>> | undefined): number =>
  Object.values(counts ?? {}).reduce<number>((total, count) => total + (count ?? 0), 0);

/** Adds a rollup map's counters (statuses, kinds, input types; names encoded) into `into`, by decoded name. */
function addCounters(into: Map<string, number>, counts: Partial<Record<string, number>> | undefined): void {
  for (const [key, count] of Object.entries(counts ?? {}))
    into.set(nameOf(key), (into.get(nameOf(key)) ?? 0) + (count ?? 0));
}

/** Reading the rollups: every figure is summed from hour or day documents, never from the jobs. */
export function createRollupReads({ rollups, prompts }: RollupModels) {
  const owned = (ownerId: Types.ObjectId | undefined) => ({ ownerId: ownerId ?? null });

  return {
    /** The most used prompts (latest use first among equals), read in index order. */
    popularPrompts(ownerId: Types.ObjectId | undefined, limit: number) {
      return prompts
        .find({ ...owned(ownerId), count: { $gt: 0 } }, { promptKey: 1, count: 1, lastUsedAt: 1 })
        .sort({ count: -1, lastUsedAt: -1 })
        .limit(limit)
        .lean<Array<Pick<PromptRollupRecord, 'promptKey' | 'count' | 'lastUsedAt'>>>();
    },

    /** All-time jobs per status, kind and (generation jobs) input type; assets and bytes. */
    async totals(ownerId: Types.ObjectId | undefined) {
      const days = await rollups
        .find({ ...owned(ownerId), span: 'day' }, { jobs: 1, kinds: 1, inputs: 1, assets: 1 })
        .lean<Array<Pick<RollupRecord, 'jobs' | 'kinds' | 'inputs' | 'assets'>>>();
      const statuses = new Map<string, number>();
      const kinds = new Map<string, number>();
      const inputs = new Map<string, number>();
      let assets = 0;
      let bytes = 0;
      for (const day of days) {
        addCounters(statuses, day.jobs);
        addCounters(kinds, day.kinds);
        addCounters(inputs, day.inputs);
        assets += day.assets?.count ?? 0;
        bytes += day.assets?.bytes ?? 0;
      }
      return {
        statuses: [...statuses].map(([status, count]): StatusRow => ({ _id: status, count })),
        kinds,
        inputs,
        assets,
        bytes,
      };
    },

    /**
     * Jobs and assets per local date in `zone` from `from` on; undefined when the zone's offset is not a
     * whole number of hours at some hour with data (the caller then groups the jobs themselves).
     */
    async perDay(
      ownerId: Types.ObjectId | undefined,
      from: Date,
      zone: string,
    ): Promise<Map<string, DayFigures> | undefined> {
      if (from.getTime() % HOUR_MS !== 0) return undefined;
      const span = zone === 'UTC' ? 'day' : 'hour';
      const buckets = await rollups
        .find({ ...owned(ownerId), span, start: { $gte: from } }, { start: 1, jobs: 1, assets: 1 })
        .lean<Array<Pick<RollupRecord, 'start' | 'jobs' | 'assets'>>>();
      const days = new Map<string, DayFigures>();
      for (const bucket of buckets) {
        const start = bucket.start.getTime();
        let offset = 0;
        if (span === 'hour') {
          offset = zoneOffsetMinutes(zone, bucket.start);
          // The whole hour must lie in one local day: a whole-hour offset that does not change within it.
          if (offset % 60 !== 0 || zoneOffsetMinutes(zone, new Date(start + HOUR_MS - 1)) !== offset)
            return undefined;
        }
        const date = new Date(start + offset * 60_000).toISOString().slice(0, 10);
        const day = days.get(date) ?? { count: 0, succeeded: 0, failed: 0, assets: 0, bytes: 0 };
        day.count += sum(bucket.jobs);
        day.succeeded += bucket.jobs?.ksucceeded ?? 0;
        day.failed += bucket.jobs?.kfailed ?? 0;
        day.assets += bucket.assets?.count ?? 0;
        day.bytes += bucket.assets?.bytes ?? 0;
        days.set(date, day);
      }
      return days;
    },

    /** Jobs per status, model server, failure code and duration, created from `from` (a UTC midnight) on. */
    async metrics(ownerId: Types.ObjectId | undefined, from: Date): Promise<MetricsFigures> {
      const days = await rollups
        .find(
          { ...owned(ownerId), span: 'day', start: { $gte: from } },
          { jobs: 1, servers: 1, failures: 1, durations: 1 },
        )
        .lean<Array<Pick<RollupRecord, 'jobs' | 'servers' | 'failures' | 'durations'>>>();
      const statuses = new Map<string, number>();
      const servers = new Map<string, ServerFigures>();
      const failures = new Map<string, number>();
      const durations = new Map<number, number>();
      for (const day of days) {
        addCounters(statuses, day.jobs);
        for (const [key, figures] of Object.entries(day.servers ?? {})) {
          const name = nameOf(key);
          const server = servers.get(name) ?? { total: 0, succeeded: 0, failed: 0, msSum: 0, msCount: 0 };
          for (const [figure, value] of Object.entries(figures ?? {})) {
            if (figure === 'msSum') server.msSum += value ?? 0;
            else if (figure === 'msCount') server.msCount += value ?? 0;
            else {
              server.total += value ?? 0;
              if (figure === 'ksucceeded') server.succeeded += value ?? 0;
              if (figure === 'kfailed') server.failed += value ?? 0;
            }
          }
          servers.set(name, server);
        }
        for (const [key, count] of Object.entries(day.failures ?? {}))
          failures.set(nameOf(key), (failures.get(nameOf(key)) ?? 0) + (count ?? 0));
        for (const [key, count] of Object.entries(day.durations ?? {})) {
          const ms = Number(nameOf(key));
          durations.set(ms, (durations.get(ms) ?? 0) + (count ?? 0));
        }
      }
      // Counters brought back to zero (an account's jobs deleted) are no jobs at all.
      for (const [name, server] of servers) if (server.total === 0) servers.delete(name);
      for (const [code, count] of failures) if (count === 0) failures.delete(code);
      return {
        statuses: [...statuses].map(([status, count]): StatusRow => ({ _id: status, count })),
        servers,
        failures,
        durations,
      };
    },
  };
}

export type RollupReads = ReturnType<typeof createRollupReads>;

/** Nearest-rank percentiles of a histogram, as the pipeline ranks the sorted values. */
export function histogramPercentiles(histogram: Map<number, number>, ranks: number[]): Array<number | null> {
  const values = [...histogram].filter(([, count]) => count > 0).sort(([a], [b]) => a - b);
  const n = values.reduce((total, [, count]) => total + count, 0);
  return ranks.map((p) => {
    if (n === 0) return null;
    const index = Math.max(0, Math.ceil(n * p) - 1);
    let seen = 0;
    for (const [value, count] of values) {
      seen += count;
      if (index < seen) return value;
    }
    return null;
  });
}
