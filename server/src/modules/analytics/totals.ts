import type { TJobInputTypeCounts, TJobKindCounts, TJobStatusCounts } from '@gen3d/shared';

import type { JobModel } from '../../jobs/job-model.js';
import {
  countByStatus,
  countInputTypes,
  countJobs,
  countKinds,
  JOB_COUNT_KEY,
  type JobCountRow,
} from '../../jobs/status-counts.js';
import type { AssetModel } from '../assets/model.js';
import type { RollupReads } from './rollup-reads.js';
import type { AnalyticsRollups } from './rollups.js';
import { ownedBy, type AnalyticsScope } from './scope.js';

/** All-time jobs per status, kind and input, and assets with their bytes, of one owner or everyone. */
export interface JobAndAssetTotals {
  jobs: {
    byStatus: TJobStatusCounts & { total: number };
    byKind: TJobKindCounts;
    byInputType: TJobInputTypeCounts;
  };
  assets: { total: number; bytes: number };
}

export type TotalsOf = (scope: AnalyticsScope) => Promise<JobAndAssetTotals>;

/** Totals from the rollups once they may be read; otherwise the database groups the jobs and assets. */
export function createTotals(deps: {
  rollups: AnalyticsRollups;
  reads: RollupReads;
  jobs: JobModel;
  assets: AssetModel;
}): TotalsOf {
  const { rollups, reads, jobs, assets } = deps;

  async function fromRollups(scope: AnalyticsScope): Promise<JobAndAssetTotals> {
    const rolledUp = await reads.totals(scope.ownerId);
    return {
      jobs: {
        byStatus: countByStatus(rolledUp.statuses),
        byKind: countKinds(rolledUp.kinds),
        byInputType: countInputTypes(rolledUp.inputs),
      },
      assets: { total: rolledUp.assets, bytes: rolledUp.bytes },
    };
  }

  async function fromRecords(scope: AnalyticsScope): Promise<JobAndAssetTotals> {
    const owner = ownedBy(scope);
    const [jobRows, assetRows] = await Promise.all([
      jobs.aggregate<JobCountRow>([
        { $match: owner },
        { $group: { _id: JOB_COUNT_KEY, count: { $sum: 1 } } },
      ]),
      assets.aggregate<{ total: number; bytes: number }>([
        { $match: owner },
        { $group: { _id: null, total: { $sum: 1 }, bytes: { $sum: '$bytes' } } },
      ]),
    ]);
    return {
      jobs: countJobs(jobRows),
      assets: { total: assetRows[0]?.total ?? 0, bytes: assetRows[0]?.bytes ?? 0 },
    };
  }

  return async (scope) => ((await rollups.readable()) ? fromRollups(scope) : fromRecords(scope));
}
