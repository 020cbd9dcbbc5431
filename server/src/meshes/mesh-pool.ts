import { anySignal } from 'any-signal';
import { Piscina } from 'piscina';

import type { TAssetFormat } from '@gen3d/shared';

import type { MeshFile } from './derive-formats.js';
import type { CheckedFile } from './mesh-checks.js';
import { InvalidMeshError } from './mesh-stats.js';
import {
  isTaskProgress,
  isTaskStarted,
  type MeshTask,
  type MeshTaskBody,
  type MeshTaskResult,
} from './mesh-task-messages.js';
import type { PostprocessOperation, PostprocessSource } from './postprocess-mesh.js';

export interface MeshPoolOptions {
  /**
   * Worker threads at most; they start on demand and stop after a minute idle, so an idle server holds
   * none. Loading a thread's readers does not count against a task's time limit (see `run`).
   */
  threads: number;
  /** A task running longer is stopped (its thread is replaced) and its file refused. */
  taskTimeoutMs: number;
  /** V8 heap of each worker thread; a task needing more is stopped and its file refused. */
  memoryMb: number;
  /** Largest file accepted. */
  maxFileBytes: number;
  /** Bytes reading a GLB may allocate: accessor data and meshes baked per instance. */
  maxDecodedBytes: number;
}

const IDLE_TIMEOUT_MS = 60_000;

/**
 * Reads, validates and derives mesh files on worker threads, off the event loop, each task within a time
 * and memory budget. A file that breaks a budget is refused with InvalidMeshError; the pool replaces the
 * thread that ran it.
 */
export class MeshPool {
  private readonly piscina: Piscina<MeshTask, MeshTaskResult>;
  private readonly onStart = new Map<number, () => void>();
  private readonly onProgress = new Map<number, (share: number) => void>();
  private nextTaskId = 1;
  private started = 0;

  constructor(private readonly options: MeshPoolOptions) {
    this.piscina = new Piscina({
      filename: new URL('./mesh-worker-entry.mjs', import.meta.url).href,
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: IDLE_TIMEOUT_MS,
      resourceLimits: {
        maxOldGenerationSizeMb: options.memoryMb,
        // At most 16 MiB (it was 64): a busy thread's young generation grows to its limit over minutes, and
        // a thread replacing one (when a task is stopped) starts again at 1 MiB, so with 64 the server's RSS
        // climbed and dropped by tens of MiB with them; mesh checks cost somewhat more GC.
        maxYoungGenerationSizeMb: Math.min(16, Math.max(8, Math.floor(options.memoryMb / 8))),
      },
    });
    this.piscina.on('workerCreate', () => {
      this.started += 1;
    });
    this.piscina.on('message', (message: unknown) => {
      if (isTaskStarted(message)) this.onStart.get(message.meshTaskStarted)?.();
      else if (isTaskProgress(message)) this.onProgress.get(message.meshTaskProgress)?.(message.share);
    });
  }

  /** Checks one file as its format says (uploads, registered URLs). */
  async check(format: TAssetFormat, bytes: Uint8Array, signal?: AbortSignal): Promise<CheckedFile> {
    const [file] = await this.run(
      { kind: 'check', format, bytes, budget: this.budget() },
      format.toUpperCase(),
      signal,
    );
    return file as CheckedFile;
  }

  /**
   * Checks a model server's files, derives the wanted formats that are missing, and checks those too.
   * Aborting `signal` (a job cancelled or handed back) rejects at once but lets the thread finish the
   * checks, which the task time limit bounds, and drops their answer: ending the thread would cost a new
   * one, its start-up and its memory growing back.
   */
  prepare(files: MeshFile[], wanted: TAssetFormat[], signal?: AbortSignal): Promise<CheckedFile[]> {
    return this.run({ kind: 'prepare', files, wanted, budget: this.budget() }, 'model output', signal, {
      abortEndsThread: false,
    });
  }

  /**
   * Post-processes a model file: the operation's result is checked like any model output and written in the
   * operation's format. `onProgress` hears the share (0-1) done; aborting `signal` stops the thread's work.
   */
  postprocess(
    source: PostprocessSource,
    operation: PostprocessOperation,
    signal: AbortSignal,
    onProgress: (share: number) => void,
  ): Promise<CheckedFile[]> {
    return this.run(
      { kind: 'postprocess', source, operation, budget: this.budget() },
      source.format.toUpperCase(),
      signal,
      { onProgress },
    );
  }

  /** Worker threads started since the pool was made; each stopped task and each minute idle ends one. */
  get threadsStarted(): number {
    return this.started;
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.piscina.threads.length;
  }

  /** Stops the threads; tasks still running are refused. */
  async close(): Promise<void> {
    await this.piscina.close({ force: true });
  }

  private budget(): MeshTask['budget'] {
    return {
      maxFileBytes: this.options.maxFileBytes,
      maxDecodedBytes: this.options.maxDecodedBytes,
      maxJsonBytes: Math.floor((this.options.memoryMb * 2 ** 20) / 32),
    };
  }

  private async run(
    task: MeshTaskBody,
    what: string,
    signal: AbortSignal | undefined,
    {
      onProgress,
      abortEndsThread = true,
    }: { onProgress?: (share: number) => void; abortEndsThread?: boolean } = {},
  ): Promise<CheckedFile[]> {
    signal?.throwIfAborted();
    // The time limit counts from when a thread starts the task (the worker says so), not while it waits.
    const id = this.nextTaskId++;
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    this.onStart.set(id, () => {
      timer = setTimeout(() => deadline.abort(), this.options.taskTimeoutMs);
    });
    if (onProgress) this.onProgress.set(id, onProgress);
    const stopsOrDeadline = signal && abortEndsThread ? anySignal([signal, deadline.signal]) : undefined;
    // Cleared when the task ends, not when its caller stops waiting: an abandoned task keeps its time limit.
    const running = this.piscina
      .run({ ...task, id }, { signal: stopsOrDeadline ?? deadline.signal })
      .finally(() => {
        stopsOrDeadline?.clear();
        clearTimeout(timer);
        this.onStart.delete(id);
        this.onProgress.delete(id);
      });
    let result: MeshTaskResult;
    try {
      result = await (signal && !abortEndsThread ? abandonedOnAbort(running, signal) : running);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.signal.aborted)
        throw new InvalidMeshError(
          what,
          `reading it took longer than the ${this.options.taskTimeoutMs} ms a mesh task may take`,
        );
      if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new InvalidMeshError(
          what,
          `reading it needs more than the ${this.options.memoryMb} MiB a mesh worker may use`,
        );
      }
      throw error;
    }
    if (!result.ok) throw InvalidMeshError.fromMessage(result.message);
    return result.files;
  }
}

/** Settles as `task` does, or rejects with the signal's reason once it aborts; `task` then runs on unobserved. */
function abandonedOnAbort<T>(task: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abandon = (): void => reject(signal.reason);
    signal.addEventListener('abort', abandon, { once: true });
    task.then(resolve, reject).finally(() => signal.removeEventListener('abort', abandon));
  });
}
