import type { Document, Node, Primitive } from '@gltf-transform/core';
import { type MeshStats, StatsCollector } from './mesh-stats.js';

export type { MeshStats } from './mesh-stats.js';

export type Rgb = [number, number, number];

/** Triangles of one primitive in world space, with the base colour of its material. */
export interface MeshPart {
  materialName: string;
  color: Rgb;
  positions: Float32Array;
  normals: Float32Array | undefined;
  indices: Uint32Array;
}

const TRIANGLES = 4;

/** Multiplies a point by a column-major 4x4 matrix. */
function transformPoint(m: ArrayLike<number>, x: number, y: number, z: number): [number, number, number] {
  const at = (index: number): number => m[index] as number;
  return [
    at(0) * x + at(4) * y + at(8) * z + at(12),
    at(1) * x + at(5) * y + at(9) * z + at(13),
    at(2) * x + at(6) * y + at(10) * z + at(14),
  ];
}

/** The inverse transpose of the matrix's upper 3x3, which keeps normals perpendicular under scaling. */
function normalMatrix(m: ArrayLike<number>): number[] {
  const [a, b, c, d, e, f, g, h, i] = [m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]].map(Number) as [number, number, number, number, number, number, number, number, number];
  const determinant = a * (e * i - f * h) - d * (b * i - c * h) + g * (b * f - c * e) || 1;
  // Cofactors of the column-major 3x3 divided by the determinant = (M^-1)^T.
  return [
    (e * i - f * h) / determinant, (g * f - d * i) / determinant, (d * h - g * e) / determinant,
    (h * c - b * i) / determinant, (a * i - g * c) / determinant, (g * b - a * h) / determinant,
    (b * f - e * c) / determinant, (d * c - a * f) / determinant, (a * e - d * b) / determinant,
  ];
}

function partOf(primitive: Primitive, world: ArrayLike<number>, fallbackName: string): MeshPart | undefined {
  const position = primitive.getAttribute('POSITION');
  if (!position || primitive.getMode() !== TRIANGLES) return undefined;
  const count = position.getCount();
  const positions = new Float32Array(count * 3);
  const point: number[] = [0, 0, 0];
  for (let index = 0; index < count; index += 1) {
    position.getElement(index, point);
    positions.set(transformPoint(world, point[0] as number, point[1] as number, point[2] as number), index * 3);
  }
  const normal = primitive.getAttribute('NORMAL');
  let normals: Float32Array | undefined;
  if (normal) {
    const n = normalMatrix(world);
    normals = new Float32Array(count * 3);
    for (let index = 0; index < count; index += 1) {
      normal.getElement(index, point);
      const [x, y, z] = point as [number, number, number];
      const tx = (n[0] as number) * x + (n[3] as number) * y + (n[6] as number) * z;
      const ty = (n[1] as number) * x + (n[4] as number) * y + (n[7] as number) * z;
      const tz = (n[2] as number) * x + (n[5] as number) * y + (n[8] as number) * z;
      const length = Math.hypot(tx, ty, tz) || 1;
      normals.set([tx / length, ty / length, tz / length], index * 3);
    }
  }
  const indexAccessor = primitive.getIndices();
  const indices = indexAccessor ? Uint32Array.from(indexAccessor.getArray() ?? []) : Uint32Array.from({ length: count }, (_, index) => index);
  const material = primitive.getMaterial();
  const [r, g, b] = material?.getBaseColorFactor() ?? [0.8, 0.8, 0.8, 1];
  return { materialName: material?.getName() || fallbackName, color: [r, g, b] as Rgb, positions, normals, indices };
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
    for (let index = 0; index < part.positions.length; index += 3) stats.addVertex(part.positions[index] as number, part.positions[index + 1] as number, part.positions[index + 2] as number);
    stats.triangles += Math.floor(part.indices.length / 3);
  }
  return stats.result();
}
