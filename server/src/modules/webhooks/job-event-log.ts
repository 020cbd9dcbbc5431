import { createHash } from 'node:crypto';

import type { TWebhookEventType } from '@gen3d/shared';

import type { JobRecord } from '../../jobs/job-model.js';

/** One change of a job that endpoints hear about. */
export interface JobStatusEvent {
  type: TWebhookEventType;
  /** When it happened, to the millisecond; with the type it names the event among the job's events. */
  at: Date;
  /** Orders the job's events: later changes have larger sequences. */
  sequence: number;
}

const TERMINAL = {
  succeeded: 'job.succeeded',
  failed: 'job.failed',
  canceled: 'job.canceled',
} as const satisfies Record<string, TWebhookEventType>;

/** Events at the same millisecond keep the order a job goes through. */
const RANK = { queued: 0, running: 1, ended: 2 };

function event(type: TWebhookEventType, at: Date, rank: number): JobStatusEvent {
  return { type, at, sequence: at.getTime() * 4 + rank };
}

/**
 * The events of the job's current pass through the queue, oldest first, read from the job alone: it was
 * queued (at `availableAt`), it ran if its run started after that (a claim sets `startedAt` no earlier
 * than `availableAt`), and it ended if it is finished. Whoever sees any version of the job (the instance
 * that changed it, or one watching it) derives the same events with the same times, so recording them is
 * idempotent and an instance that missed a version still records the events before the one it saw.
 */
export function eventsOfJob(job: Pick<JobRecord, 'status' | 'availableAt' | 'startedAt' | 'finishedAt'>) {
  const events = [event('job.queued', job.availableAt, RANK.queued)];
  if (job.status === 'queued') return events;
  const ranSinceQueued = job.startedAt != null && job.startedAt.getTime() >= job.availableAt.getTime();
  if (ranSinceQueued && job.startedAt) events.push(event('job.running', job.startedAt, RANK.running));
  const terminal = TERMINAL[job.status as keyof typeof TERMINAL] as TWebhookEventType | undefined;
  if (terminal && job.finishedAt) events.push(event(terminal, job.finishedAt, RANK.ended));
  return events;
}

/** The webhook-id of an event's delivery to one endpoint: the same whichever instance records it. */
export function deliveryIdOf(jobId: string, jobEvent: JobStatusEvent, endpointId: string): string {
  const digest = createHash('sha256')
    .update(`${jobId}\n${jobEvent.type}\n${jobEvent.at.getTime()}\n${endpointId}`)
    .digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}
