import {
  JobInputTypes,
  JobKinds,
  JobStatuses,
  type TJobInputTypeCounts,
  type TJobKindCounts,
  type TJobStatusCounts,
} from '@gen3d/shared';

/** Grouped `{_id: status, count}` rows (several rows may share a status) as a count per state and the total. */
export function countByStatus(
  rows: ReadonlyArray<{ _id: string; count: number }>,
): TJobStatusCounts & { total: number } {
  const counts = { total: 0, queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 };
  for (const row of rows) {
    if ((JobStatuses as readonly string[]).includes(row._id))
      counts[row._id as keyof TJobStatusCounts] += row.count;
    counts.total += row.count;
  }
  return counts;
}

/** The `$group` key that counts jobs by state, kind and input in one pass (see `countJobs`). */
export const JOB_COUNT_KEY = { status: '$status', kind: '$kind', inputType: '$inputType' } as const;

/** A row grouped by JOB_COUNT_KEY; a field the jobs lack is null or absent. */
export interface JobCountRow {
  _id: { status?: string | null; kind?: string | null; inputType?: string | null };
  count: number;
}

/**
 * Jobs per state, per kind and, for generation jobs, per input. Jobs recorded before kinds and inputs
 * existed are text generations.
 */
export function countJobs(rows: ReadonlyArray<JobCountRow>): {
  byStatus: TJobStatusCounts & { total: number };
  byKind: TJobKindCounts;
  byInputType: TJobInputTypeCounts;
} {
  const byKind: TJobKindCounts = { generate: 0, simplify: 0, weld: 0, recenter: 0, convert: 0 };
  const byInputType: TJobInputTypeCounts = { text: 0, image: 0, 'text+image': 0 };
  for (const { _id, count } of rows) {
    const kind = _id.kind ?? 'generate';
    if ((JobKinds as readonly string[]).includes(kind)) byKind[kind as keyof TJobKindCounts] += count;
    if (kind !== 'generate') continue;
    const inputType = _id.inputType ?? 'text';
    if ((JobInputTypes as readonly string[]).includes(inputType))
      byInputType[inputType as keyof TJobInputTypeCounts] += count;
  }
  const byStatus = countByStatus(rows.map(({ _id, count }) => ({ _id: _id.status ?? '', count })));
  return { byStatus, byKind, byInputType };
}
