import { loadSharp } from '../infra/load-sharp.js';
import { MAX_TEXTURE_SIDE } from './image-checks.js';
import type { MeshPart, MeshTexture } from './mesh-parts.js';

interface DecodedTexture {
  pixels: Buffer;
  width: number;
  height: number;
}

/** glTF's default wrapping (REPEAT): a coordinate outside 0-1 wraps around. */
const wrapped = (coordinate: number, size: number): number => {
  const fraction = coordinate - Math.floor(coordinate);
  return Math.min(size - 1, Math.floor(fraction * size));
};

async function decode(texture: MeshTexture): Promise<DecodedTexture> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(texture.bytes, { limitInputPixels: MAX_TEXTURE_SIDE ** 2 })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { pixels: data, width: info.width, height: info.height };
}

/**
 * Gives each textured part per-vertex colours: its texture at the vertex's coordinates (nearest texel) times
 * the material's base colour, for formats that carry colours but no texture (PLY).
 */
export async function bakeTextureColours(parts: MeshPart[]): Promise<void> {
  const decoded = new Map<Uint8Array, DecodedTexture>();
  for (const part of parts) {
    if (!part.texture || !part.uvs) continue;
    let texture = decoded.get(part.texture.bytes);
    if (!texture) {
      texture = await decode(part.texture);
      decoded.set(part.texture.bytes, texture);
    }
    const { pixels, width, height } = texture;
    const channels = pixels.length / (width * height);
    const colors = new Uint8Array((part.uvs.length / 2) * 3);
    for (let vertex = 0; vertex < part.uvs.length / 2; vertex += 1) {
      const x = wrapped(part.uvs[vertex * 2] as number, width);
      const y = wrapped(part.uvs[vertex * 2 + 1] as number, height);
      const at = (y * width + x) * channels;
      for (let channel = 0; channel < 3; channel += 1)
        colors[vertex * 3 + channel] = Math.round(
          (pixels[at + Math.min(channel, channels - 1)] as number) * part.color[channel as 0 | 1 | 2],
        );
    }
    part.vertexColors = colors;
  }
}
