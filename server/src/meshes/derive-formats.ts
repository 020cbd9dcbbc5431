import type { TAssetFormat } from '@gen3d/shared';

import { loadSharp } from '../infra/load-sharp.js';
import { readGlb } from './glb-format.js';
import { MAX_TEXTURE_SIDE } from './image-checks.js';
import { meshPartsOf, type MeshPart } from './mesh-parts.js';
import { InvalidMeshError } from './mesh-stats.js';
import { modelFileName } from './model-file-names.js';
import { writeObj } from './obj-format.js';
import { mtlNamesTexture } from './obj-links.js';
import { writePly } from './ply-format.js';
import { bakeTextureColours } from './texture-colours.js';

export interface MeshFile {
  format: TAssetFormat;
  bytes: Uint8Array;
}

/** The first texture of the parts as a PNG file (a GLB may embed JPEG or WebP; an MTL's texture is a PNG). */
async function textureFileOf(parts: MeshPart[]): Promise<MeshFile | undefined> {
  const texture = parts.find((part) => part.texture && part.uvs)?.texture;
  if (!texture) return undefined;
  if (texture.mimeType === 'image/png') return { format: 'png', bytes: texture.bytes };
  const sharp = await loadSharp();
  try {
    const png = await sharp(texture.bytes, { limitInputPixels: MAX_TEXTURE_SIDE ** 2 })
      .png()
      .toBuffer();
    return { format: 'png', bytes: png };
  } catch {
    throw new InvalidMeshError('GLB', 'its texture is not an image the server can read');
  }
}

/**
 * Completes a model server's files to the wanted formats: a missing OBJ or MTL (they go together) or PLY
 * is written from the GLB. A textured model keeps its texture: the OBJ gets its texture coordinates, the
 * MTL names the texture, which comes as a `png` file when an MTL is wanted (the server's own, or the GLB's),
 * and the PLY gets the texture's colours per vertex. Files not wanted are dropped, so a GLB fetched only to
 * derive from is not kept.
 */
export async function completeFormats(files: MeshFile[], wanted: TAssetFormat[]): Promise<MeshFile[]> {
  const byFormat = new Map(files.map((file) => [file.format, file]));
  const wantsMtl = wanted.includes('obj') || wanted.includes('mtl');
  const needsObj = wantsMtl && !(byFormat.has('obj') && byFormat.has('mtl'));
  const needsPly = wanted.includes('ply') && !byFormat.has('ply');
  const returnedMtl = byFormat.get('mtl');
  const needsTexture =
    wantsMtl &&
    !byFormat.has('png') &&
    (needsObj || (returnedMtl !== undefined && mtlNamesTexture(returnedMtl.bytes)));
  if (needsObj || needsPly || needsTexture) {
    const glb = byFormat.get('glb');
    if (!glb) {
      if (needsObj || needsPly)
        throw new InvalidMeshError(
          'GLB',
          'the model server returned no GLB to derive the missing formats from',
        );
    } else {
      const parts = meshPartsOf(await readGlb(glb.bytes));
      const texture = needsTexture ? await textureFileOf(parts) : undefined;
      if (texture) byFormat.set('png', texture);
      if (needsObj) {
        const { obj, mtl } = writeObj(
          parts,
          modelFileName('mtl'),
          texture ? modelFileName('png') : undefined,
        );
        byFormat.set('obj', { format: 'obj', bytes: obj });
        byFormat.set('mtl', { format: 'mtl', bytes: mtl });
      }
      if (needsPly) {
        await bakeTextureColours(parts);
        byFormat.set('ply', { format: 'ply', bytes: writePly(parts) });
      }
    }
  }
  const kept: TAssetFormat[] = wantsMtl ? [...wanted, 'png'] : wanted;
  return [...new Set(kept)]
    .map((format) => byFormat.get(format))
    .filter((file): file is MeshFile => file !== undefined);
}
