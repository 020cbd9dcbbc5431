import { EventEmitter } from 'node:events';

import type { JobEvents } from './job-events.js';

export interface QueueTicksOptions {
  /** Ticks come at most this often, the last one after the latest change. */
  throttleMs: number;
  /** A tick at least this often while anyone listens: other instances' claims of other users' jobs are not seen here. */
  refreshMs: number;
}

/**
 * Tells live streams when the positions of their queued jobs may have changed: after any job change this
 * instance sees (a claim, an end, a new job), throttled, and on a slow timer for the changes it cannot
 * see. Idle (no timer, no listener on job events) while nobody listens.
 */
export class QueueTicks {
  private readonly emitter = new EventEmitter();
  private pending: NodeJS.Timeout | undefined;
  private refresh: NodeJS.Timeout | undefined;
  private stopWatchingJobs: (() => void) | undefined;

  constructor(
    private readonly events: JobEvents,
    private readonly options: QueueTicksOptions,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /** Calls `listener` on every tick until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.emitter.on('tick', listener);
    if (!this.stopWatchingJobs) {
      this.stopWatchingJobs = this.events.subscribe(() => this.schedule());
      this.refresh = setInterval(() => this.schedule(), this.options.refreshMs);
      this.refresh.unref();
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.emitter.off('tick', listener);
      if (this.emitter.listenerCount('tick') === 0) this.close();
    };
  }

  close(): void {
    this.stopWatchingJobs?.();
    this.stopWatchingJobs = undefined;
    clearInterval(this.refresh);
    clearTimeout(this.pending);
    this.refresh = undefined;
    this.pending = undefined;
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.emitter.emit('tick');
    }, this.options.throttleMs);
    this.pending.unref();
  }
}
