import type { Accessor, Document, Node, Primitive } from '@gltf-transform/core';

import { StatsCollector, type MeshStats } from './mesh-stats.js';

export type { MeshStats } from './mesh-stats.js';

export type Rgb = [number, number, number];

/** The encoded image of a base-colour texture, as the GLB carries it. */
export interface MeshTexture {
  bytes: Uint8Array;
  mimeType: string;
}

/** Triangles of one primitive in world space, with the base colour of its material. */
export interface MeshPart {
  materialName: string;
  color: Rgb;
  positions: Float32Array;
  normals: Float32Array | undefined;
  indices: Uint32Array;
  /** The material's base-colour texture, when it has one and the primitive has its texture coordinates. */
  texture: MeshTexture | undefined;
  /** The texture coordinates, two per vertex, glTF's way (origin at the image's top-left corner). */
  uvs: Float32Array | undefined;
  /** RGB 0-255 per vertex, sampled from the texture (texture-colours.ts), for formats that carry no texture. */
  vertexColors?: Uint8Array | undefined;
}

const TRIANGLES = 4;

/** The inverse transpose of the matrix's upper 3x3, which keeps normals perpendicular under scaling. */
function normalMatrix(m: ArrayLike<number>): number[] {
  const [a, b, c, d, e, f, g, h, i] = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const determinant = a * (e * i - f * h) - d * (b * i - c * h) + g * (b * f - c * e) || 1;
  // Cofactors of the column-major 3x3 divided by the determinant = (M^-1)^T.
  return [
    (e * i - f * h) / determinant,
    (g * f - d * i) / determinant,
    (d * h - g * e) / determinant,
    (h * c - b * i) / determinant,
    (a * i - g * c) / determinant,
    (g * b - a * h) / determinant,
    (b * f - e * c) / determinant,
    (d * c - a * f) / determinant,
    (a * e - d * b) / determinant,
  ];
}

/**
 * Each element of the accessor multiplied by a column-major matrix (4x4 for points, 3x3 for directions),
 * written into one array; directions are made unit length. Runs once per vertex, so it allocates nothing.
 */
function transformed(accessor: Accessor, m: ArrayLike<number>, kind: 'point' | 'direction'): Float32Array {
  const count = accessor.getCount();
  const out = new Float32Array(count * 3);
  const element: number[] = [0, 0, 0];
  // The 3x3 part, column-major: a 4x4 matrix keeps it in columns of four.
  const at = (row: number, column: number): number => Number(m[column * (kind === 'point' ? 4 : 3) + row]);
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = [
    at(0, 0),
    at(1, 0),
    at(2, 0),
    at(0, 1),
    at(1, 1),
    at(2, 1),
    at(0, 2),
    at(1, 2),
    at(2, 2),
  ];
  const [tx, ty, tz] = kind === 'point' ? [Number(m[12]), Number(m[13]), Number(m[14])] : [0, 0, 0];
  for (let index = 0; index < count; index += 1) {
    accessor.getElement(index, element);
    const x = element[0] as number;
    const y = element[1] as number;
    const z = element[2] as number;
    let rx = m0 * x + m3 * y + m6 * z + tx;
    let ry = m1 * x + m4 * y + m7 * z + ty;
    let rz = m2 * x + m5 * y + m8 * z + tz;
    if (kind === 'direction') {
      const length = Math.hypot(rx, ry, rz) || 1;
      rx /= length;
      ry /= length;
      rz /= length;
    }
    out[index * 3] = rx;
    out[index * 3 + 1] = ry;
    out[index * 3 + 2] = rz;
  }
  return out;
}

/** The primitive's base-colour texture image and the texture coordinates it is mapped by, when both exist. */
function texturedBy(
  primitive: Primitive,
  count: number,
): { texture: MeshTexture; uvs: Float32Array } | undefined {
  const material = primitive.getMaterial();
  const texture = material?.getBaseColorTexture();
  const image = texture?.getImage();
  const coordinates = primitive.getAttribute(
    `TEXCOORD_${material?.getBaseColorTextureInfo()?.getTexCoord() ?? 0}`,
  );
  if (!texture || !image || !coordinates || coordinates.getCount() !== count) return undefined;
  const uvs = new Float32Array(count * 2);
  const element: number[] = [0, 0];
  for (let index = 0; index < count; index += 1) {
    coordinates.getElement(index, element);
    uvs[index * 2] = element[0] as number;
    uvs[index * 2 + 1] = element[1] as number;
  }
  return { texture: { bytes: image, mimeType: texture.getMimeType() }, uvs };
}

function partOf(primitive: Primitive, world: ArrayLike<number>, fallbackName: string): MeshPart | undefined {
  const position = primitive.getAttribute('POSITION');
  if (!position || primitive.getMode() !== TRIANGLES) return undefined;
  const count = position.getCount();
  const positions = transformed(position, world, 'point');
  const normal = primitive.getAttribute('NORMAL');
  const normals = normal ? transformed(normal, normalMatrix(world), 'direction') : undefined;
  const indexAccessor = primitive.getIndices();
  const indices = indexAccessor
    ? Uint32Array.from(indexAccessor.getArray() ?? [])
    : Uint32Array.from({ length: count }, (_, index) => index);
  const material = primitive.getMaterial();
  const [r, g, b] = material?.getBaseColorFactor() ?? [0.8, 0.8, 0.8, 1];
  const textured = texturedBy(primitive, count);
  return {
    materialName: material?.getName() || fallbackName,
    color: [r, g, b] as Rgb,
    positions,
    normals,
    indices,
    texture: textured?.texture,
    uvs: textured?.uvs,
  };
}

/** Every triangle primitive of the document's scenes, baked into world space. */
export function meshPartsOf(document: Document): MeshPart[] {
  const parts: MeshPart[] = [];
  const visit = (node: Node): void => {
    const mesh = node.getMesh();
    if (mesh) {
      for (const primitive of mesh.listPrimitives()) {
        const part = partOf(primitive, node.getWorldMatrix(), `material_${parts.length}`);
        if (part) parts.push(part);
      }
    }
    for (const child of node.listChildren()) visit(child);
  };
  for (const scene of document.getRoot().listScenes()) for (const node of scene.listChildren()) visit(node);
  return parts;
}

/** Vertex and triangle counts and the axis-aligned bounding box of the parts. */
export function statsOf(parts: MeshPart[]): MeshStats {
  const stats = new StatsCollector('GLB');
  for (const part of parts) {
    for (let index = 0; index < part.positions.length; index += 3)
      stats.addVertex(
        part.positions[index] as number,
        part.positions[index + 1] as number,
        part.positions[index + 2] as number,
      );
    stats.triangles += Math.floor(part.indices.length / 3);
  }
  return stats.result();
}
