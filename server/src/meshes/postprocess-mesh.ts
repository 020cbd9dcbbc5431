import type { Document } from '@gltf-transform/core';
import { simplify, weld } from '@gltf-transform/functions';
import { MeshoptSimplifier } from 'meshoptimizer';

import type { TPostprocessKind } from '@gen3d/shared';

import { checkGlbBounds } from './glb-bounds.js';
import { readGlb, writeGlb } from './glb-format.js';
import { prepareModelOutput, type CheckedFile, type MeshBudget } from './mesh-checks.js';
import { meshPartsOf, statsOf } from './mesh-parts.js';
import { InvalidMeshError } from './mesh-stats.js';
import { checkObj } from './obj-format.js';
import { readObj } from './obj-reader.js';
import { documentOfParts } from './parts-document.js';
import { readPly } from './ply-format.js';

export type PostprocessFormat = 'glb' | 'obj' | 'ply';

/** What a post-processing job does to its source (the shape the job records). */
export interface PostprocessOperation {
  kind: TPostprocessKind;
  /** simplify: share of the triangles kept. */
  ratio?: number | undefined;
  /** simplify: triangles kept at most. */
  targetTriangles?: number | undefined;
  format: PostprocessFormat;
}

export interface PostprocessSource {
  format: PostprocessFormat;
  bytes: Uint8Array;
  /** An OBJ's material library, for its colours. */
  material?: Uint8Array | undefined;
}

/**
 * The simplifier's error limit, as a share of the mesh's extent. The caller's ratio or count decides how far
 * it goes, so the limit is set as high as it goes: a lower one would stop short of the count asked for.
 */
const SIMPLIFY_ERROR = 1;

/** Reads a model asset's file into a document; a file that does not parse is an InvalidMeshError. */
async function readSource(source: PostprocessSource, budget: MeshBudget): Promise<Document> {
  if (source.bytes.byteLength > budget.maxFileBytes)
    throw new InvalidMeshError(
      source.format.toUpperCase(),
      `the file is ${source.bytes.byteLength} bytes, over the ${budget.maxFileBytes}-byte limit`,
    );
  switch (source.format) {
    case 'glb':
      checkGlbBounds(source.bytes, budget);
      return readGlb(source.bytes);
    case 'obj':
      checkObj(source.bytes);
      return documentOfParts(readObj(source.bytes, source.material));
    case 'ply':
      return documentOfParts(
        readPly(Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength)),
      );
  }
}

const trianglesOf = (document: Document): number => statsOf(meshPartsOf(document)).triangles;

/**
 * Moves and scales the scenes so that the bounding box of everything they show is centred on the origin and
 * its largest side is 1: each scene's nodes go under one node holding the scale and the translation.
 */
function recenter(document: Document): void {
  const { bbox } = statsOf(meshPartsOf(document));
  const size = Math.max(...bbox.max.map((max, axis) => max - (bbox.min[axis] as number)));
  if (!(size > 0)) throw new InvalidMeshError('model', 'it has no extent to scale to a unit size');
  const scale = 1 / size;
  const centre = bbox.max.map((max, axis) => (max + (bbox.min[axis] as number)) / 2);
  for (const scene of document.getRoot().listScenes()) {
    const holder = document
      .createNode('recentered')
      .setScale([scale, scale, scale])
      .setTranslation(centre.map((value) => -value * scale) as [number, number, number]);
    for (const child of scene.listChildren()) {
      scene.removeChild(child);
      holder.addChild(child);
    }
    scene.addChild(holder);
  }
}

async function apply(document: Document, operation: PostprocessOperation): Promise<void> {
  switch (operation.kind) {
    case 'simplify': {
      await MeshoptSimplifier.ready;
      const ratio = operation.ratio ?? (operation.targetTriangles ?? 0) / Math.max(1, trianglesOf(document));
      await document.transform(
        weld(),
        simplify({ simplifier: MeshoptSimplifier, ratio: Math.min(1, ratio), error: SIMPLIFY_ERROR }),
      );
      return;
    }
    case 'weld':
      await document.transform(weld());
      return;
    case 'recenter':
      recenter(document);
      return;
    case 'convert':
      return;
  }
}

/**
 * Runs the operation on the source and answers the new files, checked like any model output: the result is
 * written as a GLB, checked (Khronos' validator included), and the wanted format derived from it.
 * `onProgress` hears 0-1 as the stages end.
 */
export async function postprocessMesh(
  source: PostprocessSource,
  operation: PostprocessOperation,
  budget: MeshBudget,
  onProgress: (share: number) => void,
): Promise<CheckedFile[]> {
  const document = await readSource(source, budget);
  onProgress(0.25);
  await apply(document, operation);
  onProgress(0.6);
  const glb = await writeGlb(document);
  onProgress(0.7);
  const wanted = operation.format === 'obj' ? (['obj', 'mtl'] as const) : ([operation.format] as const);
  return prepareModelOutput([{ format: 'glb', bytes: glb }], [...wanted], budget);
}
