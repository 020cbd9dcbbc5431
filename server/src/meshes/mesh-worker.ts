import type { TAssetFormat } from '@gen3d/shared';
import type { MeshFile } from './derive-formats.js';
import { type CheckedFile, checkMeshFile, type MeshBudget, prepareModelOutput } from './mesh-checks.js';
import { InvalidMeshError } from './mesh-stats.js';

/** What the mesh pool asks of a worker thread. */
export type MeshTask =
  | { kind: 'check'; format: TAssetFormat; bytes: Uint8Array; budget: MeshBudget }
  | { kind: 'prepare'; files: MeshFile[]; wanted: TAssetFormat[]; budget: MeshBudget };

/** A worker's answer; a refused file is an answer, not an exception (errors lose their class between threads). */
export type MeshTaskResult = { ok: true; files: CheckedFile[] } | { ok: false; message: string };

/** Runs one task on a worker thread; whatever a file makes a reader throw is that file's refusal. */
export default async function runMeshTask(task: MeshTask): Promise<MeshTaskResult> {
  try {
    const files = task.kind === 'check' ? [await checkMeshFile(task.format, task.bytes, task.budget)] : await prepareModelOutput(task.files, task.wanted, task.budget);
    return { ok: true, files };
  } catch (error) {
    if (error instanceof InvalidMeshError) return { ok: false, message: error.message };
    const format = task.kind === 'check' ? task.format.toUpperCase() : 'model output';
    const reason = error instanceof RangeError ? 'it is nested or sized beyond what the reader takes' : 'the reader could not make sense of it';
    return { ok: false, message: new InvalidMeshError(format, reason).message };
  }
}
