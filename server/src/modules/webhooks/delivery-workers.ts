import type { FastifyBaseLogger } from 'fastify';

import type { WebhookConfig } from '../../config.js';
import type {
  WebhookDeliveryModel,
  WebhookDeliveryRecord,
  WebhookEndpointModel,
  WebhookEndpointRecord,
} from './model.js';
import type { SecretBox } from './secrets.js';
import type { AttemptResult, WebhookSender } from './sender.js';

/**
 * When each attempt is made, counted from the previous one (Standard Webhooks / Svix): at once, then after
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h — about a day and a half in all before a delivery fails.
 */
export const RETRY_SCHEDULE_MS = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Attempts a delivery's log keeps (the newest). */
export const MAX_LOGGED_ATTEMPTS = 20;

/** Due deliveries looked at per claim. */
const CANDIDATES = 50;

export interface DeliveryWorkersDeps {
  endpoints: WebhookEndpointModel;
  deliveries: WebhookDeliveryModel;
  sender: WebhookSender;
  secrets: SecretBox;
  config: WebhookConfig;
  workerId: string;
  log: FastifyBaseLogger;
  /** Called once, by the instance that disabled it, for an endpoint disabled because its deliveries kept failing. */
  onEndpointDisabled(endpoint: WebhookEndpointRecord): Promise<void>;
}

type Claimed = WebhookDeliveryRecord & { _id: string };

const free = (now: Date) => ({ $or: [{ leaseExpiresAt: null }, { leaseExpiresAt: { $lte: now } }] });

/**
 * Sends due deliveries from the shared collection, on any number of instances: a delivery is claimed
 * with a lease (a conditional update, like the job queue), so one worker sends it; a crashed worker's lease
 * expires and another takes it over. A job's events reach an endpoint in order: a delivery waits while an
 * earlier event of its job to the same endpoint is still pending.
 */
export class WebhookDeliveryWorkers {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly shutdown = new AbortController();
  private readonly leaseMs: number;

  constructor(private readonly deps: DeliveryWorkersDeps) {
    this.leaseMs = deps.config.timeoutMs * 2 + 5_000;
  }

  start(): void {
    for (let slot = 0; slot < this.deps.config.concurrency; slot += 1) this.loops.push(this.loop());
  }

  /** Wakes idle workers: deliveries were stored or became due here. */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Stops claiming, abandons attempts in flight (their leases expire and they are sent again) and waits. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.shutdown.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.wake();
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let claimed: Claimed | undefined;
      try {
        claimed = await this.claimNext();
        if (claimed) await this.deliver(claimed);
      } catch (error) {
        if (!this.stopping) this.deps.log.error({ err: error }, 'a webhook delivery step failed');
      }
      if (!claimed) await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.deps.config.pollIntervalMs);
      this.waiters.add(done);
    });
  }

  private wakeAt(when: Date): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.wake();
      },
      Math.max(0, when.getTime() - Date.now()),
    );
    timer.unref();
    this.timers.add(timer);
  }

  private async claimNext(): Promise<Claimed | undefined> {
    const { deliveries } = this.deps;
    const now = new Date();
    const due = { status: 'pending' as const, nextAttemptAt: { $lte: now }, ...free(now) };
    const candidates = await deliveries
      .find(due, { endpointId: 1, jobId: 1, sequence: 1 })
      .sort({ nextAttemptAt: 1, sequence: 1 })
      .limit(CANDIDATES)
      .lean<Array<Pick<Claimed, '_id' | 'endpointId' | 'jobId' | 'sequence'>>>();
    for (const candidate of candidates) {
      const earlier = await deliveries
        .findOne(
          {
            endpointId: candidate.endpointId,
            jobId: candidate.jobId,
            status: 'pending',
            sequence: { $lt: candidate.sequence },
          },
          { nextAttemptAt: 1, leaseExpiresAt: 1 },
        )
        .sort({ sequence: 1 })
        .lean<Pick<Claimed, 'nextAttemptAt' | 'leaseExpiresAt'>>();
      if (earlier) {
        // Not before the earlier event is through; finishing it brings this one forward again.
        const notBefore = Math.max(
          earlier.nextAttemptAt?.getTime() ?? 0,
          earlier.leaseExpiresAt?.getTime() ?? 0,
        );
        if (notBefore > now.getTime())
          await deliveries.updateOne(
            { _id: candidate._id, status: 'pending' },
            { $max: { nextAttemptAt: new Date(notBefore) } },
          );
        continue;
      }
      const claimed = await deliveries
        .findOneAndUpdate(
          { _id: candidate._id, ...due },
          {
            $set: { leaseOwner: this.deps.workerId, leaseExpiresAt: new Date(now.getTime() + this.leaseMs) },
          },
          { returnDocument: 'after' },
        )
        .lean<Claimed>();
      if (claimed) return claimed;
    }
    return undefined;
  }

  private async attempt(delivery: Claimed, endpoint: WebhookEndpointRecord): Promise<AttemptResult> {
    let secret: string;
    try {
      secret = this.deps.secrets.open(endpoint.secretCiphertext);
    } catch {
      return {
        at: new Date(),
        status: null,
        latencyMs: 0,
        error: 'Not sent: the signing secret cannot be read (JWT_SECRET changed?); rotate the secret',
      };
    }
    return this.deps.sender.send(
      { url: endpoint.url, id: delivery._id, payload: delivery.payload, secret },
      this.shutdown.signal,
    );
  }

  private async deliver(delivery: Claimed): Promise<void> {
    const { deliveries, endpoints } = this.deps;
    const endpoint = await endpoints.findById(delivery.endpointId).lean<WebhookEndpointRecord>();
    if (!endpoint) {
      await deliveries.deleteOne({ _id: delivery._id });
      return;
    }
    const held = { _id: delivery._id, leaseOwner: this.deps.workerId, status: 'pending' as const };
    const released = { leaseOwner: null, leaseExpiresAt: null };
    if (!endpoint.enabled) {
      const note = {
        at: new Date(),
        status: null,
        latencyMs: 0,
        error: 'Not sent: the endpoint is disabled',
      };
      await deliveries.updateOne(held, {
        $set: { status: 'failed', nextAttemptAt: null, ...released },
        $push: { attempts: { $each: [note], $slice: -MAX_LOGGED_ATTEMPTS } },
      });
      await this.releaseLater(delivery);
      return;
    }
    const result = await this.attempt(delivery, endpoint);
    if (this.stopping && result.error !== null) {
      // A shutdown cut the attempt short: it does not count, and any instance may send it again now.
      await deliveries.updateOne(held, { $set: released });
      return;
    }
    const attemptCount = delivery.attemptCount + 1;
    const log = { $push: { attempts: { $each: [result], $slice: -MAX_LOGGED_ATTEMPTS } } };
    if (result.error === null) {
      const updated = await deliveries.updateOne(held, {
        $set: { status: 'succeeded', attemptCount, nextAttemptAt: null, ...released },
        ...log,
      });
      if (updated.modifiedCount === 1) {
        await endpoints.updateOne(
          { _id: endpoint._id, consecutiveFailures: { $gt: 0 } },
          { $set: { consecutiveFailures: 0 } },
        );
        await this.releaseLater(delivery);
      }
      return;
    }
    const delayMs = RETRY_SCHEDULE_MS[attemptCount];
    if (delayMs !== undefined) {
      const nextAttemptAt = new Date(Date.now() + Math.round(delayMs * this.deps.config.retryScale));
      await deliveries.updateOne(held, { $set: { attemptCount, nextAttemptAt, ...released }, ...log });
      this.wakeAt(nextAttemptAt);
      return;
    }
    const exhausted = await deliveries.updateOne(held, {
      $set: { status: 'failed', attemptCount, nextAttemptAt: null, ...released },
      ...log,
    });
    if (exhausted.modifiedCount !== 1) return;
    await this.releaseLater(delivery);
    await this.countFailure(endpoint);
  }

  /** The job's later events to this endpoint may go now. */
  private async releaseLater(delivery: Claimed): Promise<void> {
    const { modifiedCount } = await this.deps.deliveries.updateMany(
      {
        endpointId: delivery.endpointId,
        jobId: delivery.jobId,
        status: 'pending',
        sequence: { $gt: delivery.sequence },
      },
      { $min: { nextAttemptAt: new Date() } },
    );
    if (modifiedCount > 0) this.wake();
  }

  private async countFailure(endpoint: WebhookEndpointRecord): Promise<void> {
    const { endpoints, config } = this.deps;
    const counted = await endpoints
      .findOneAndUpdate(
        { _id: endpoint._id },
        { $inc: { consecutiveFailures: 1 } },
        { returnDocument: 'after' },
      )
      .lean<WebhookEndpointRecord>();
    if (!counted || counted.consecutiveFailures < config.disableAfterFailures) return;
    const disabled = await endpoints
      .findOneAndUpdate(
        { _id: endpoint._id, enabled: true },
        {
          $set: {
            enabled: false,
            disabledReason: `${counted.consecutiveFailures} deliveries in a row failed every attempt`,
          },
        },
        { returnDocument: 'after' },
      )
      .lean<WebhookEndpointRecord>();
    if (disabled) await this.deps.onEndpointDisabled(disabled);
  }
}
