import { writeGlb } from '../../meshes/glb-format.js';
import { meshPartsOf, statsOf, type MeshStats } from '../../meshes/mesh-parts.js';
import { writeObj } from '../../meshes/obj-format.js';
import { writePly } from '../../meshes/ply-format.js';
import { sceneOfPrompt, type QualityPreset } from './prompt-scene.js';
import { documentOfScene } from './scene-document.js';

export interface GeneratedFile {
  name: 'mesh.glb' | 'mesh.obj' | 'mesh.mtl' | 'mesh.ply';
  contentType: string;
  bytes: Uint8Array;
}

export interface GeneratedModel {
  files: GeneratedFile[];
  interpretation: string;
  stats: MeshStats;
}

/** The prompt as one mesh in GLB, OBJ+MTL and PLY; the same bytes for the same prompt, seed and quality. */
export async function generateModelFiles(
  prompt: string,
  seed: number,
  quality: QualityPreset,
): Promise<GeneratedModel> {
  const scene = sceneOfPrompt(prompt, seed, quality);
  const document = documentOfScene(scene, prompt.slice(0, 100));
  const parts = meshPartsOf(document);
  const { obj, mtl } = writeObj(parts, 'mesh.mtl');
  return {
    files: [
      { name: 'mesh.glb', contentType: 'model/gltf-binary', bytes: await writeGlb(document) },
      { name: 'mesh.obj', contentType: 'model/obj', bytes: obj },
      { name: 'mesh.mtl', contentType: 'model/mtl', bytes: mtl },
      { name: 'mesh.ply', contentType: 'application/ply', bytes: writePly(parts) },
    ],
    interpretation: scene.interpretation,
    stats: statsOf(parts),
  };
}
