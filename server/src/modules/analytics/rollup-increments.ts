import type { Types } from 'mongoose';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * A name used as a key inside a rollup map (a status, model server, error code or duration): prefixed so
 * it never starts with `$` and never clashes with msSum/msCount, dots escaped so it stays one path step.
 */
export function keyOf(name: string): string {
  return `k${encodeURIComponent(name).replace(/\./g, '%2E')}`;
}

export function nameOf(key: string): string {
  return decodeURIComponent(key.slice(1));
}

/** What a job adds to the rollups: the fields analytics read (the same ones the pipelines group on). */
export interface JobFacts {
  ownerId: Types.ObjectId;
  createdAt: Date;
  status: string;
  /** Absent on jobs recorded before kinds and inputs existed: a text generation. */
  kind?: string | null | undefined;
  inputType?: string | null | undefined;
  params?: { modelServer?: string | null | undefined } | null | undefined;
  error?: { code?: string | null | undefined } | null | undefined;
  computeMs?: number | null | undefined;
}

export interface AssetFacts {
  ownerId: Types.ObjectId;
  createdAt: Date;
  bytes: number;
}

/** The counter changes of one rollup document. */
export interface RollupChange {
  ownerId: Types.ObjectId | null;
  span: 'hour' | 'day';
  start: Date;
  inc: Map<string, number>;
}

export const rollupId = (ownerId: Types.ObjectId | null, span: 'hour' | 'day', start: number): string =>
  `${ownerId ? ownerId.toHexString() : '*'}|${span === 'hour' ? 'h' : 'd'}|${start}`;

/** Counter changes, collected per rollup document: adding a job or asset, or taking one away. */
export class RollupDelta {
  readonly changes = new Map<string, RollupChange>();

  private add(
    ownerId: Types.ObjectId | null,
    span: 'hour' | 'day',
    at: Date,
    path: string,
    amount: number,
  ): void {
    const unit = span === 'hour' ? HOUR_MS : DAY_MS;
    const start = Math.floor(at.getTime() / unit) * unit;
    const id = rollupId(ownerId, span, start);
    let change = this.changes.get(id);
    if (!change) {
      change = { ownerId, span, start: new Date(start), inc: new Map() };
      this.changes.set(id, change);
    }
    change.inc.set(path, (change.inc.get(path) ?? 0) + amount);
  }

  /** The job counted (sign 1) or uncounted (-1) in its owner's and everyone's hour and day. */
  job(job: JobFacts, sign: 1 | -1): this {
    const status = keyOf(job.status);
    // Jobs without a model server or error code are grouped as the pipelines group them.
    const server = `servers.${keyOf(job.params?.modelServer ?? 'unknown')}`;
    for (const owner of [job.ownerId, null]) {
      this.add(owner, 'hour', job.createdAt, `jobs.${status}`, sign);
      this.add(owner, 'day', job.createdAt, `jobs.${status}`, sign);
      this.add(owner, 'day', job.createdAt, `${server}.${status}`, sign);
      const kind = job.kind ?? 'generate';
      this.add(owner, 'day', job.createdAt, `kinds.${keyOf(kind)}`, sign);
      if (kind === 'generate')
        this.add(owner, 'day', job.createdAt, `inputs.${keyOf(job.inputType ?? 'text')}`, sign);
      if (job.status === 'failed')
        this.add(owner, 'day', job.createdAt, `failures.${keyOf(job.error?.code ?? 'UNKNOWN')}`, sign);
      if (job.status === 'succeeded' && typeof job.computeMs === 'number') {
        this.add(owner, 'day', job.createdAt, `${server}.msSum`, sign * job.computeMs);
        this.add(owner, 'day', job.createdAt, `${server}.msCount`, sign);
        this.add(owner, 'day', job.createdAt, `durations.${keyOf(String(job.computeMs))}`, sign);
      }
    }
    return this;
  }

  asset(asset: AssetFacts, sign: 1 | -1): this {
    for (const owner of [asset.ownerId, null])
      for (const span of ['hour', 'day'] as const) {
        this.add(owner, span, asset.createdAt, 'assets.count', sign);
        this.add(owner, span, asset.createdAt, 'assets.bytes', sign * asset.bytes);
      }
    return this;
  }

  /** Adds another delta's changes to this one's. */
  include(other: RollupDelta): this {
    for (const [id, change] of other.changes) {
      const into = this.changes.get(id);
      if (!into) {
        this.changes.set(id, { ...change, inc: new Map(change.inc) });
        continue;
      }
      for (const [path, amount] of change.inc) into.inc.set(path, (into.inc.get(path) ?? 0) + amount);
    }
    return this;
  }

  /** The documents with a non-zero change, zero changes dropped. */
  nonZero(): Array<[id: string, change: RollupChange]> {
    const changed: Array<[string, RollupChange]> = [];
    for (const [id, change] of this.changes) {
      for (const [path, amount] of change.inc) if (amount === 0) change.inc.delete(path);
      if (change.inc.size > 0) changed.push([id, change]);
    }
    return changed;
  }
}
