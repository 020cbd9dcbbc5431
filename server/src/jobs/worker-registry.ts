import { Schema, type Connection } from 'mongoose';

const WorkerInstanceSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** Jobs this instance runs at once. */
    concurrency: { type: Number, required: true },
    /** Counted until then; each heartbeat moves it on. */
    expiresAt: { type: Date, required: true },
  },
  { strict: 'throw', versionKey: false },
);
// Instances that stopped without saying so are removed by MongoDB (the query ignores them before that).
WorkerInstanceSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

const workerInstanceModel = (connection: Connection) =>
  connection.model('WorkerInstance', WorkerInstanceSchema);

export interface WorkerRegistryOptions {
  /** How long a registration counts without a heartbeat. */
  ttlMs: number;
}

/**
 * The instances that run jobs, each with its worker concurrency: every instance with workers registers
 * and heartbeats, so any instance (API-only ones too) knows how many jobs run at once across all of them.
 */
export class WorkerRegistry {
  private timer: NodeJS.Timeout | undefined;
  private readonly instances: ReturnType<typeof workerInstanceModel>;

  constructor(
    connection: Connection,
    private readonly options: WorkerRegistryOptions,
  ) {
    this.instances = workerInstanceModel(connection);
  }

  /** Registers this instance's workers and keeps the registration alive until `leave`. */
  async join(workerId: string, concurrency: number, onError: (error: unknown) => void): Promise<void> {
    if (concurrency === 0) return;
    const beat = () =>
      this.instances.updateOne(
        { _id: workerId },
        { $set: { concurrency, expiresAt: new Date(Date.now() + this.options.ttlMs) } },
        { upsert: true },
      );
    await beat();
    this.timer = setInterval(
      () => void beat().catch(onError),
      Math.max(100, Math.floor(this.options.ttlMs / 3)),
    );
    this.timer.unref();
  }

  /** Stops heartbeating and removes this instance's registration. */
  async leave(workerId: string): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.instances.deleteOne({ _id: workerId });
  }

  /** Jobs all live instances run at once. */
  async totalConcurrency(): Promise<number> {
    const [row] = await this.instances.aggregate<{ total: number }>([
      { $match: { expiresAt: { $gt: new Date() } } },
      { $group: { _id: null, total: { $sum: '$concurrency' } } },
    ]);
    return row?.total ?? 0;
  }
}
