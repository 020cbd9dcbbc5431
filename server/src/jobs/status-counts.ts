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

/** Jobs per kind from `[kind, count]` pairs (several may share a kind); a job without a kind is a generation. */
export function countKinds(
  pairs: Iterable<readonly [kind: string | null | undefined, count: number]>,
): TJobKindCounts {
  const byKind: TJobKindCounts = { generate: 0, simplify: 0, weld: 0, recenter: 0, convert: 0 };
  for (const [kind, count] of pairs) {
    const named = kind ?? 'generate';
    if ((JobKinds as readonly string[]).includes(named)) byKind[named as keyof TJobKindCounts] += count;
  }
  return byKind;
}

/** Generation jobs per input from `[inputType, count]` pairs; a job without an input type took a prompt. */
export function countInputTypes(
  pairs: Iterable<readonly [inputType: string | null | undefined, count: number]>,
): TJobInputTypeCounts {
  const byInputType: TJobInputTypeCounts = { text: 0, image: 0, 'text+image': 0 };
  for (const [inputType, count] of pairs) {
    const named = inputType ?? 'text';
    if ((JobInputTypes as readonly string[]).includes(named))
      byInputType[named as keyof TJobInputTypeCounts] += count;
  }
  return byInputType;
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
  return {
    byStatus: countByStatus(rows.map(({ _id, count }) => ({ _id: _id.status ?? '', count }))),
    byKind: countKinds(rows.map(({ _id, count }) => [_id.kind, count] as const)),
    byInputType: countInputTypes(
      rows
        .filter(({ _id }) => (_id.kind ?? 'generate') === 'generate')
        .map(({ _id, count }) => [_id.inputType, count] as const),
    ),
  };
}
