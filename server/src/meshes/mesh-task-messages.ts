import type { TAssetFormat } from '@gen3d/shared';

import type { MeshFile } from './derive-formats.js';
import type { CheckedFile, MeshBudget } from './mesh-checks.js';
import type { PostprocessOperation, PostprocessSource } from './postprocess-mesh.js';

/** What the mesh pool asks of a worker thread, without the id the pool gives it. */
export type MeshTaskBody =
  | { kind: 'check'; format: TAssetFormat; bytes: Uint8Array; budget: MeshBudget }
  | { kind: 'prepare'; files: MeshFile[]; wanted: TAssetFormat[]; budget: MeshBudget }
  | { kind: 'postprocess'; source: PostprocessSource; operation: PostprocessOperation; budget: MeshBudget };

export type MeshTask = MeshTaskBody & { id: number };

/** A worker's answer; a refused file is an answer, not an exception (errors lose their class between threads). */
export type MeshTaskResult = { ok: true; files: CheckedFile[] } | { ok: false; message: string };

/** What a worker posts when it starts a task: the pool's time limit counts from then. */
interface TaskStarted {
  meshTaskStarted: number;
}

export const taskStarted = (id: number): TaskStarted => ({ meshTaskStarted: id });

export function isTaskStarted(message: unknown): message is TaskStarted {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as Partial<TaskStarted>).meshTaskStarted === 'number'
  );
}

/** What a worker posts as a post-processing task moves on: the share (0-1) done. */
interface TaskProgress {
  meshTaskProgress: number;
  share: number;
}

export const taskProgress = (id: number, share: number): TaskProgress => ({ meshTaskProgress: id, share });

export function isTaskProgress(message: unknown): message is TaskProgress {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as Partial<TaskProgress>).meshTaskProgress === 'number' &&
    typeof (message as Partial<TaskProgress>).share === 'number'
  );
}
