import type { TJob } from '@gen3d/client';

/** "40 s" or "3 min" from now; "now" when already due. */
function fromNow(iso: string, now: number): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds <= 0) return 'now';
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/** Where the job stands in the queue and when it should be ready, in words; empty once it ended. */
export function queueStatus(job: TJob, now = Date.now()): string {
  const parts: string[] = [];
  if (job.status === 'queued' && job.queuePosition != null) {
    parts.push(job.queuePosition === 1 ? 'Next in the queue' : `Number ${job.queuePosition} in the queue`);
    if (job.estimatedStartAt) parts.push(`starts in about ${fromNow(job.estimatedStartAt, now)}`);
  }
  if ((job.status === 'queued' || job.status === 'running') && job.estimatedFinishAt)
    parts.push(`ready in about ${fromNow(job.estimatedFinishAt, now)}`);
  else if (job.status === 'queued' && job.queuePosition != null) parts.push('no estimate yet');
  const text = parts.join(' · ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
