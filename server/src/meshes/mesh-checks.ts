import { createHash } from 'node:crypto';

import type { TAssetFormat } from '@gen3d/shared';

import { completeFormats, type MeshFile } from './derive-formats.js';
import { checkGlb } from './glb-format.js';
import { checkImageFile } from './image-checks.js';
import { InvalidMeshError, type MeshStats } from './mesh-stats.js';
import { checkMtl, checkObj } from './obj-format.js';
import { linkObjFiles } from './obj-links.js';
import { checkPly } from './ply-format.js';

export interface MeshBudget {
  /** Largest file accepted. */
  maxFileBytes: number;
  /** Bytes reading a GLB may allocate: accessor data (bufferless and sparse ones made whole) and meshes baked per instance. */
  maxDecodedBytes: number;
  /** Largest GLB JSON chunk parsed: small enough that parsing it cannot come near the worker's heap limit. */
  maxJsonBytes: number;
}

export interface CheckedFile {
  format: TAssetFormat;
  bytes: Uint8Array;
  sha256: string;
  /** Mesh figures; undefined for a material library or a texture. */
  stats: MeshStats | undefined;
}

/** Parses a file as its format says and measures it; a bad file throws InvalidMeshError. */
export async function checkMeshFile(
  format: TAssetFormat,
  bytes: Uint8Array,
  budget: MeshBudget,
): Promise<CheckedFile> {
  if (bytes.byteLength === 0) throw new InvalidMeshError(format.toUpperCase(), 'the file is empty');
  if (bytes.byteLength > budget.maxFileBytes)
    throw new InvalidMeshError(
      format.toUpperCase(),
      `the file is ${bytes.byteLength} bytes, over the ${budget.maxFileBytes}-byte limit`,
    );
  let stats: MeshStats | undefined;
  switch (format) {
    case 'glb':
      stats = await checkGlb(bytes, budget);
      break;
    case 'obj':
      stats = checkObj(bytes);
      break;
    case 'mtl':
      checkMtl(bytes);
      break;
    case 'ply':
      stats = checkPly(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      break;
    case 'png':
    case 'jpeg':
    case 'webp':
      await checkImageFile(format, bytes);
      break;
  }
  return { format, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), stats };
}

/**
 * A model server's files made ready to store: the GLB is checked (Khronos' validator included) before
 * anything is derived from it, missing wanted formats are derived, the OBJ, MTL and texture are made to name
 * each other by their stored names, and every file is checked.
 */
export async function prepareModelOutput(
  returned: MeshFile[],
  wanted: TAssetFormat[],
  budget: MeshBudget,
): Promise<CheckedFile[]> {
  const glb = returned.find((file) => file.format === 'glb');
  const checkedGlb = glb ? await checkMeshFile('glb', glb.bytes, budget) : undefined;
  const files = linkObjFiles(await completeFormats(returned, wanted));
  const checked: CheckedFile[] = [];
  for (const file of files)
    checked.push(
      file.format === 'glb' && checkedGlb ? checkedGlb : await checkMeshFile(file.format, file.bytes, budget),
    );
  return checked;
}
