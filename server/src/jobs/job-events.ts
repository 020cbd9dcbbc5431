import { EventEmitter } from 'node:events';

import type { JobRecord } from './job-model.js';

/**
 * Job changes seen by this instance: its own writes at once, other instances' through the watcher.
 * Listeners get every version once, in order per job.
 */
export class JobEvents {
  private readonly emitter = new EventEmitter();
  private readonly newestVersion = new Map<string, { version: number; seenAt: number }>();

  constructor() {
    // One listener per open subscription; many clients may watch at once.
    this.emitter.setMaxListeners(0);
  }

  /** Whether this version of the job is newer than any delivered. */
  isNews(id: string, version: number): boolean {
    const known = this.newestVersion.get(id);
    return !known || known.version < version;
  }

  /** Delivers the job's state unless this version (or a newer one) was delivered already. */
  publish(job: JobRecord): void {
    const id = job._id.toHexString();
    if (!this.isNews(id, job.version)) return;
    this.newestVersion.set(id, { version: job.version, seenAt: Date.now() });
    this.emitter.emit('job', job);
  }

  subscribe(listener: (job: JobRecord) => void): () => void {
    this.emitter.on('job', listener);
    return () => this.emitter.off('job', listener);
  }

  get listenerCount(): number {
    return this.emitter.listenerCount('job');
  }

  /** Forgets versions of jobs not seen for `ageMs`, keeping the map small. */
  forgetOlderThan(ageMs: number): void {
    const cutoff = Date.now() - ageMs;
    for (const [id, known] of this.newestVersion) if (known.seenAt < cutoff) this.newestVersion.delete(id);
  }
}
