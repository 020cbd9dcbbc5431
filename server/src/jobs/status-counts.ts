import { JobStatuses, type TJobStatusCounts } from '@gen3d/shared';

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
