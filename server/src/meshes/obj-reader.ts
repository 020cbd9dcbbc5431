import type { MeshPart, Rgb } from './mesh-parts.js';
import { InvalidMeshError } from './mesh-stats.js';
import { linesOf } from './text-lines.js';

const DEFAULT_COLOR: Rgb = [0.8, 0.8, 0.8];

/** The diffuse colours (`Kd`) of a material library, by material name. */
export function materialColors(mtl: Uint8Array | undefined): Map<string, Rgb> {
  const colors = new Map<string, Rgb>();
  if (!mtl) return colors;
  let current: string | undefined;
  for (const rawLine of linesOf(mtl, 'MTL')) {
    const [keyword, ...fields] = rawLine.trim().split(/\s+/);
    if (keyword === 'newmtl') current = fields.join(' ');
    else if (keyword === 'Kd' && current !== undefined) {
      const rgb = fields.slice(0, 3).map(Number);
      if (rgb.length === 3 && rgb.every((value) => Number.isFinite(value)))
        colors.set(current, rgb.map((value) => Math.max(0, Math.min(1, value))) as Rgb);
    }
  }
  return colors;
}

/** One material's triangles while the file is read: corners (vertex, normal) become vertices once each. */
class PartBuilder {
  readonly positions: number[] = [];
  readonly normals: number[] = [];
  readonly indices: number[] = [];
  private readonly corners = new Map<string, number>();
  private withNormals = true;

  constructor(readonly materialName: string) {}

  corner(position: number[], vertex: number, normal: number[] | undefined, normalIndex: number): number {
    const key = `${vertex}/${normalIndex}`;
    const known = this.corners.get(key);
    if (known !== undefined) return known;
    const index = this.positions.length / 3;
    this.positions.push(...position);
    if (normal) this.normals.push(...normal);
    else {
      this.withNormals = false;
      this.normals.push(0, 0, 0);
    }
    this.corners.set(key, index);
    return index;
  }

  part(color: Rgb): MeshPart {
    return {
      materialName: this.materialName,
      color,
      positions: Float32Array.from(this.positions),
      normals: this.withNormals ? Float32Array.from(this.normals) : undefined,
      indices: Uint32Array.from(this.indices),
      // Texture coordinates and maps are not read back from OBJ sources: colours come from the MTL.
      texture: undefined,
      uvs: undefined,
    };
  }
}

/** A unit normal, or undefined for one of zero length. */
function unit([x, y, z]: number[]): number[] | undefined {
  const length = Math.hypot(x ?? 0, y ?? 0, z ?? 0);
  return length > 0 && Number.isFinite(length)
    ? [(x ?? 0) / length, (y ?? 0) / length, (z ?? 0) / length]
    : undefined;
}

/**
 * The triangles of OBJ text, one part per material (`usemtl`), coloured from the material library when
 * given; polygons are split into fans. The file is expected to have passed `checkObj`.
 */
export function readObj(bytes: Uint8Array, mtl?: Uint8Array): MeshPart[] {
  const colors = materialColors(mtl);
  const positions: number[][] = [];
  const normals: Array<number[] | undefined> = [];
  const parts = new Map<string, PartBuilder>();
  let current = 'default';
  const builder = (): PartBuilder => {
    let found = parts.get(current);
    if (!found) {
      found = new PartBuilder(current);
      parts.set(current, found);
    }
    return found;
  };
  let lineNumber = 0;
  for (const rawLine of linesOf(bytes, 'OBJ')) {
    lineNumber += 1;
    const [keyword, ...fields] = rawLine.trim().split(/\s+/);
    if (keyword === 'v') positions.push(fields.slice(0, 3).map(Number));
    else if (keyword === 'vn') normals.push(unit(fields.slice(0, 3).map(Number)));
    else if (keyword === 'usemtl') current = fields.join(' ') || 'default';
    else if (keyword === 'f') {
      const part = builder();
      const corners = fields.map((field) => {
        const [vertexField, , normalField] = field.split('/');
        const reference = Number(vertexField);
        const vertex = reference < 0 ? positions.length + reference : reference - 1;
        const position = positions[vertex];
        if (!position) throw new InvalidMeshError('OBJ', `line ${lineNumber} refers to a missing vertex`);
        const normalReference = normalField ? Number(normalField) : NaN;
        const normalIndex = normalReference < 0 ? normals.length + normalReference : normalReference - 1;
        const normal = Number.isInteger(normalIndex) ? normals[normalIndex] : undefined;
        return part.corner(position, vertex, normal, normal ? normalIndex : -1);
      });
      for (let i = 1; i + 1 < corners.length; i += 1)
        part.indices.push(corners[0] as number, corners[i] as number, corners[i + 1] as number);
    }
  }
  const built = [...parts.values()]
    .filter((part) => part.indices.length > 0)
    .map((part) => part.part(colors.get(part.materialName) ?? DEFAULT_COLOR));
  if (built.length === 0) throw new InvalidMeshError('OBJ', 'it holds no triangles');
  return built;
}
