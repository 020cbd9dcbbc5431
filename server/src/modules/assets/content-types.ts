import { createHash } from 'node:crypto';
import type { TAssetFormat } from '@gen3d/shared';
import { checkGlb } from '../../meshes/glb-format.js';
import { InvalidMeshError, type MeshStats } from '../../meshes/mesh-stats.js';
import { checkMtl, checkObj } from '../../meshes/obj-format.js';
import { checkPly } from '../../meshes/ply-format.js';

export const CONTENT_TYPES: Record<TAssetFormat, string> = {
  glb: 'model/gltf-binary',
  obj: 'model/obj',
  mtl: 'model/mtl',
  ply: 'application/ply',
};

export interface CheckedFile {
  format: TAssetFormat;
  bytes: Uint8Array;
  sha256: string;
  /** Mesh figures; undefined for a material library. */
  stats: MeshStats | undefined;
}

/** Parses a model server's output file as its format says; a bad file throws InvalidMeshError. */
export async function checkModelFile(format: TAssetFormat, bytes: Uint8Array, maxBytes: number): Promise<CheckedFile> {
  if (bytes.byteLength === 0) throw new InvalidMeshError(format.toUpperCase(), 'the file is empty');
  if (bytes.byteLength > maxBytes) throw new InvalidMeshError(format.toUpperCase(), `the file is ${bytes.byteLength} bytes, over the ${maxBytes}-byte limit`);
  const text = (): string => {
    const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (decoded.includes('\u0000')) throw new InvalidMeshError(format.toUpperCase(), 'a text format holds binary data');
    return decoded;
  };
  let stats: MeshStats | undefined;
  switch (format) {
    case 'glb':
      stats = await checkGlb(bytes);
      break;
    case 'obj':
      stats = checkObj(text());
      break;
    case 'mtl':
      checkMtl(text());
      break;
    case 'ply':
      stats = checkPly(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      break;
  }
  return { format, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), stats };
}
