import { NodeIO, type Document } from '@gltf-transform/core';

import { checkGlbBounds } from './glb-bounds.js';
import { validateGlb } from './gltf-validation.js';
import type { MeshBudget } from './mesh-checks.js';
import { meshPartsOf, statsOf, type MeshStats } from './mesh-parts.js';
import { InvalidMeshError } from './mesh-stats.js';

const io = new NodeIO();
const GLB_MAGIC = 0x46546c67; // "glTF"

/** The document as a binary glTF (GLB) file. */
export function writeGlb(document: Document): Promise<Uint8Array> {
  return io.writeBinary(document);
}

/** Parses a GLB file into a document; anything unreadable is an InvalidMeshError. */
export async function readGlb(bytes: Uint8Array): Promise<Document> {
  if (
    bytes.byteLength < 12 ||
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(0) !== GLB_MAGIC
  )
    throw new InvalidMeshError('GLB', 'it does not start with the glTF magic');
  try {
    return await io.readBinary(bytes);
  } catch (error) {
    throw new InvalidMeshError('GLB', error instanceof Error ? error.message : String(error));
  }
}

/**
 * Checks a GLB's declared sizes against its bytes, validates it (Khronos' validator), parses it and measures
 * its triangles. The size check comes first: the libraries allocate what an accessor declares.
 */
export async function checkGlb(
  bytes: Uint8Array,
  budget: Pick<MeshBudget, 'maxDecodedBytes' | 'maxJsonBytes'>,
): Promise<MeshStats> {
  checkGlbBounds(bytes, budget);
  await validateGlb(bytes);
  const document = await readGlb(bytes);
  const stats = statsOf(meshPartsOf(document));
  if (stats.vertices === 0 || stats.triangles === 0)
    throw new InvalidMeshError('GLB', 'it holds no triangles');
  return stats;
}
