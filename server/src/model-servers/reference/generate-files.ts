import type { Document } from '@gltf-transform/core';

import { writeGlb } from '../../meshes/glb-format.js';
import { meshPartsOf, statsOf, type MeshStats } from '../../meshes/mesh-parts.js';
import { writeObj } from '../../meshes/obj-format.js';
import { writePly } from '../../meshes/ply-format.js';
import { bakeTextureColours } from '../../meshes/texture-colours.js';
import { documentOfRelief } from './image-document.js';
import type { DecodedImage } from './image-input.js';
import { reliefOf } from './image-relief.js';
import { sceneOfPrompt, type QualityPreset } from './prompt-scene.js';
import { seededRandom, seedOf } from './random.js';
import { documentOfScene } from './scene-document.js';

export type GeneratedFileName = 'mesh.glb' | 'mesh.obj' | 'mesh.mtl' | 'mesh.ply' | 'texture.png';

export interface GeneratedFile {
  name: GeneratedFileName;
  contentType: string;
  bytes: Uint8Array;
}

export interface GeneratedModel {
  files: GeneratedFile[];
  interpretation: string;
  stats: MeshStats;
}

/** Height-field cells on the image's long side, by quality. */
const RELIEF_CELLS: Record<QualityPreset, number> = { draft: 64, standard: 96, high: 128 };

/** The document's mesh in GLB, OBJ+MTL (with the texture beside them, when there is one) and PLY. */
async function filesOf(document: Document, texture: Uint8Array | undefined): Promise<GeneratedFile[]> {
  const parts = meshPartsOf(document);
  const { obj, mtl } = writeObj(parts, 'mesh.mtl', texture ? 'texture.png' : undefined);
  await bakeTextureColours(parts);
  return [
    { name: 'mesh.glb', contentType: 'model/gltf-binary', bytes: await writeGlb(document) },
    { name: 'mesh.obj', contentType: 'model/obj', bytes: obj },
    { name: 'mesh.mtl', contentType: 'model/mtl', bytes: mtl },
    ...(texture ? [{ name: 'texture.png' as const, contentType: 'image/png', bytes: texture }] : []),
    { name: 'mesh.ply', contentType: 'application/ply', bytes: writePly(parts) },
  ];
}

/** The prompt's scene as one mesh in GLB, OBJ+MTL and PLY; the same bytes for the same prompt, seed and quality. */
export async function generateModelFiles(
  prompt: string,
  seed: number,
  quality: QualityPreset,
): Promise<GeneratedModel> {
  const scene = sceneOfPrompt(prompt, seed, quality);
  const document = documentOfScene(scene, prompt.slice(0, 100));
  return {
    files: await filesOf(document, undefined),
    interpretation: scene.interpretation,
    stats: statsOf(meshPartsOf(document)),
  };
}

/**
 * The image's textured relief as one mesh in GLB, OBJ+MTL+PNG and PLY; the same bytes for the same image,
 * seed and quality with the same sharp build (it decodes the image and encodes the texture). A prompt given
 * with the image names the model.
 */
export async function generateImageModelFiles(
  image: DecodedImage,
  prompt: string | undefined,
  seed: number,
  quality: QualityPreset,
): Promise<GeneratedModel> {
  const random = seededRandom(seedOf('image relief', seed));
  const relief = reliefOf(image, {
    cells: RELIEF_CELLS[quality],
    depth: 0.1 + 0.15 * random(),
    thickness: 0.08 + 0.08 * random(),
  });
  const document = documentOfRelief(relief.geometry, image, (prompt ?? 'image').slice(0, 100));
  const silhouette = relief.silhouette === 'whole image' ? 'the whole image' : `its ${relief.silhouette}`;
  return {
    files: await filesOf(document, image.png),
    interpretation:
      `Relief of the ${image.width}x${image.height} image on ${relief.columns}x${relief.rows} cells ` +
      `(${relief.foreground} inside the silhouette, taken from ${silhouette}), textured with the image` +
      (prompt ? '; the prompt names it' : ''),
    stats: statsOf(meshPartsOf(document)),
  };
}
