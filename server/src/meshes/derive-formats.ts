import type { TAssetFormat } from '@gen3d/shared';

import { readGlb } from './glb-format.js';
import { meshPartsOf } from './mesh-parts.js';
import { InvalidMeshError } from './mesh-stats.js';
import { writeObj } from './obj-format.js';
import { writePly } from './ply-format.js';

export interface MeshFile {
  format: TAssetFormat;
  bytes: Uint8Array;
}

/** The material library name derived OBJ files refer to; assets serve it under this name. */
const MTL_FILE_NAME = 'mesh.mtl';

/**
 * Completes a model server's files to the wanted formats: a missing OBJ or MTL (they go together) or PLY
 * is written from the GLB. Files not wanted are dropped, so a GLB fetched only to derive from is not kept.
 */
export async function completeFormats(files: MeshFile[], wanted: TAssetFormat[]): Promise<MeshFile[]> {
  const byFormat = new Map(files.map((file) => [file.format, file]));
  const needsObj =
    (wanted.includes('obj') || wanted.includes('mtl')) && !(byFormat.has('obj') && byFormat.has('mtl'));
  const needsPly = wanted.includes('ply') && !byFormat.has('ply');
  if (needsObj || needsPly) {
    const glb = byFormat.get('glb');
    if (!glb)
      throw new InvalidMeshError(
        'GLB',
        'the model server returned no GLB to derive the missing formats from',
      );
    const parts = meshPartsOf(await readGlb(glb.bytes));
    if (needsObj) {
      const { obj, mtl } = writeObj(parts, MTL_FILE_NAME);
      byFormat.set('obj', { format: 'obj', bytes: obj });
      byFormat.set('mtl', { format: 'mtl', bytes: mtl });
    }
    if (needsPly) byFormat.set('ply', { format: 'ply', bytes: writePly(parts) });
  }
  return wanted.map((format) => byFormat.get(format)).filter((file): file is MeshFile => file !== undefined);
}
