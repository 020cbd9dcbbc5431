import type { FastifyBaseLogger } from 'fastify';
import type { Types } from 'mongoose';

import type { TJob } from '@gen3d/shared';

import { isDuplicateKeyError } from '../../db/duplicate-key.js';
import { grouped } from '../../infra/group-commit.js';
import type { JobEvents } from '../../jobs/job-events.js';
import type { JobRecord } from '../../jobs/job-model.js';
import { deliveryIdOf, eventsOfJob, type JobStatusEvent } from './job-event-log.js';
import type { WebhookDeliveryModel, WebhookEndpointModel, WebhookEndpointRecord } from './model.js';

export interface WebhookEventRecorderDeps {
  events: JobEvents;
  endpoints: WebhookEndpointModel;
  deliveries: WebhookDeliveryModel;
  /** The job as the API shows it. */
  view(job: JobRecord): TJob;
  log: FastifyBaseLogger;
  /** Told after new deliveries were stored, so this instance's workers send them at once. */
  onRecorded(): void;
}

export interface WebhookEventRecorder {
  /** Stops listening and waits for the recordings under way. */
  close(): Promise<void>;
}

/** Jobs whose recorded events this instance remembers, to skip the database for versions it already handled. */
const REMEMBERED_JOBS = 5_000;

/**
 * Turns job changes into stored deliveries, one per event and subscribed enabled endpoint of the job's
 * owner. Every instance records what it sees (its own changes, and others' when it watches a job); the
 * delivery id derived from job, event and endpoint makes the second recording of an event a no-op.
 */
export function createWebhookEventRecorder(deps: WebhookEventRecorderDeps): WebhookEventRecorder {
  const recorded = new Map<string, Set<string>>();
  const underway = new Map<string, Promise<void>>();
  // Each event needs a lookup made after it happened: lookups asked for while one is under way wait for the
  // next, which then serves them all (under load, the events of many jobs share one round trip).
  const enabledEndpointsOf = grouped(async (owners: Types.ObjectId[]) => {
    const found = await deps.endpoints
      .find({
        ownerId: { $in: [...new Map(owners.map((owner) => [owner.toHexString(), owner])).values()] },
        enabled: true,
      })
      .sort({ createdAt: 1 })
      .lean<WebhookEndpointRecord[]>();
    return owners.map((owner) => found.filter((endpoint) => endpoint.ownerId.equals(owner)));
  });

  async function store(job: JobRecord, event: JobStatusEvent, endpoint: WebhookEndpointRecord) {
    const jobId = job._id.toHexString();
    const timestamp = new Date(Math.min(event.at.getTime(), Date.now()));
    const payload = JSON.stringify({ type: event.type, timestamp, data: deps.view(job) });
    try {
      await deps.deliveries.create({
        _id: deliveryIdOf(jobId, event, endpoint._id.toHexString()),
        endpointId: endpoint._id,
        ownerId: job.ownerId as Types.ObjectId,
        jobId: job._id,
        type: event.type,
        sequence: event.sequence,
        payload,
        nextAttemptAt: new Date(),
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async function record(job: JobRecord): Promise<void> {
    const jobId = job._id.toHexString();
    const done = recorded.get(jobId) ?? new Set<string>();
    const fresh = eventsOfJob(job).filter((event) => !done.has(`${event.type}@${event.sequence}`));
    if (fresh.length === 0) return;
    const endpoints = await enabledEndpointsOf(job.ownerId as Types.ObjectId);
    let stored = false;
    // In the job's order, so a later event is never stored before an earlier one.
    for (const event of fresh) {
      for (const endpoint of endpoints)
        if (endpoint.events.includes(event.type) && (await store(job, event, endpoint))) stored = true;
      done.add(`${event.type}@${event.sequence}`);
    }
    recorded.delete(jobId);
    recorded.set(jobId, done);
    if (recorded.size > REMEMBERED_JOBS) recorded.delete(recorded.keys().next().value as string);
    if (stored) deps.onRecorded();
  }

  const unsubscribe = deps.events.subscribe((job) => {
    const jobId = job._id.toHexString();
    // One job's versions are recorded one after another, in the order they were seen.
    const previous = underway.get(jobId) ?? Promise.resolve();
    const next = previous
      .then(() => record(job))
      .catch((error: unknown) => deps.log.error({ err: error, jobId }, 'recording webhook deliveries failed'))
      .finally(() => {
        if (underway.get(jobId) === next) underway.delete(jobId);
      });
    underway.set(jobId, next);
  });

  return {
    async close() {
      unsubscribe();
      await Promise.allSettled([...underway.values()]);
    },
  };
}
