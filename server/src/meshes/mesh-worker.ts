import { parentPort } from 'node:worker_threads';

import { checkMeshFile, prepareModelOutput } from './mesh-checks.js';
import { InvalidMeshError } from './mesh-stats.js';
import { taskProgress, taskStarted, type MeshTask, type MeshTaskResult } from './mesh-task-messages.js';
import { postprocessMesh } from './postprocess-mesh.js';

/** Runs one task on a worker thread; whatever a file makes a reader throw is that file's refusal. */
export default async function runMeshTask(task: MeshTask): Promise<MeshTaskResult> {
  parentPort?.postMessage(taskStarted(task.id));
  try {
    const files =
      task.kind === 'check'
        ? [await checkMeshFile(task.format, task.bytes, task.budget)]
        : task.kind === 'prepare'
          ? await prepareModelOutput(task.files, task.wanted, task.budget)
          : await postprocessMesh(task.source, task.operation, task.budget, (share) =>
              parentPort?.postMessage(taskProgress(task.id, share)),
            );
    return { ok: true, files };
  } catch (error) {
    if (error instanceof InvalidMeshError) return { ok: false, message: error.message };
    const format =
      task.kind === 'check'
        ? task.format.toUpperCase()
        : task.kind === 'prepare'
          ? 'model output'
          : task.source.format.toUpperCase();
    const reason =
      error instanceof RangeError
        ? 'it is nested or sized beyond what the reader takes'
        : 'the reader could not make sense of it';
    return { ok: false, message: new InvalidMeshError(format, reason).message };
  }
}
