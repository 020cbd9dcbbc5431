import { Types } from 'mongoose';

import type { JobEvents } from './job-events.js';
import type { JobModel, JobRecord } from './job-model.js';

export interface JobWatcherOptions {
  pollIntervalMs: number;
  /** Changes are looked for this far back, to cover clock differences between instances. */
  overlapMs: number;
}

/**
 * Brings other instances' job changes into this instance's JobEvents: while anyone here watches an
 * owner's jobs, recently updated jobs of the watched owners are read on a short poll (MongoDB change
 * streams would need a replica set). Versions make the overlap harmless: each is delivered once.
 */
export class JobWatcher {
  private readonly watchedOwners = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private since = new Date();
  private polling = false;

  constructor(
    private readonly jobs: JobModel,
    private readonly events: JobEvents,
    private readonly options: JobWatcherOptions,
  ) {}

  /** Watches the owner's jobs until the returned function is called. */
  watch(ownerId: string): () => void {
    this.watchedOwners.set(ownerId, (this.watchedOwners.get(ownerId) ?? 0) + 1);
    if (!this.timer) {
      this.since = new Date(Date.now() - this.options.overlapMs);
      this.timer = setInterval(() => void this.poll(), this.options.pollIntervalMs);
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const left = (this.watchedOwners.get(ownerId) ?? 1) - 1;
      if (left > 0) this.watchedOwners.set(ownerId, left);
      else this.watchedOwners.delete(ownerId);
      if (this.watchedOwners.size === 0) this.close();
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling || this.watchedOwners.size === 0) return;
    this.polling = true;
    const startedAt = Date.now();
    try {
      const owners = [...this.watchedOwners.keys()].map((id) => new Types.ObjectId(id));
      // The overlap finds most changes again (and every change this instance made itself): their versions
      // are read first, and only the jobs with a version not delivered yet in full.
      const versions = await this.jobs
        .find({ ownerId: { $in: owners }, updatedAt: { $gte: this.since } }, { version: 1 })
        .lean<Array<Pick<JobRecord, '_id' | 'version'>>>();
      const news = versions
        .filter((job) => this.events.isNews(job._id.toHexString(), job.version))
        .map((job) => job._id);
      const changed =
        news.length === 0
          ? []
          : await this.jobs
              .find({ _id: { $in: news } })
              .sort({ updatedAt: 1 })
              .lean<JobRecord[]>();
      for (const job of changed) this.events.publish(job);
      this.since = new Date(startedAt - this.options.overlapMs);
      this.events.forgetOlderThan(this.options.overlapMs * 4);
    } catch {
      // The next poll tries again; a database outage shows on /ready.
    } finally {
      this.polling = false;
    }
  }
}
