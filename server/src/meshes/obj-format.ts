import type { MeshPart } from './mesh-parts.js';
import { InvalidMeshError, StatsCollector, type MeshStats } from './mesh-stats.js';
import { linesOf } from './text-lines.js';

const number = (value: number): string =>
  Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, '');

const LINES_PER_CHUNK = 16_384;

/** Text written line by line into buffers of a few thousand lines: a large mesh never becomes one string. */
class TextFileWriter {
  private lines: string[] = [];
  private readonly chunks: Buffer[] = [];

  push(...lines: string[]): void {
    this.lines.push(...lines);
    if (this.lines.length >= LINES_PER_CHUNK) this.flush();
  }

  bytes(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }

  private flush(): void {
    if (this.lines.length > 0) this.chunks.push(Buffer.from(`${this.lines.join('\n')}\n`));
    this.lines = [];
  }
}

/**
 * Wavefront OBJ text referencing `mtlFileName`, and that MTL: one material per distinct part material. A
 * textured part's texture coordinates become `vt` lines (OBJ's v axis points up, glTF's down) and its
 * material names `textureFileName` with `map_Kd`; the caller writes that file (one texture per model).
 */
export function writeObj(
  parts: MeshPart[],
  mtlFileName: string,
  textureFileName?: string,
): { obj: Buffer; mtl: Buffer } {
  const obj = new TextFileWriter();
  obj.push('# gen3d', `mtllib ${mtlFileName}`);
  const materials = new Map<string, { color: MeshPart['color']; textured: boolean }>();
  let offset = 1;
  let uvOffset = 1;
  parts.forEach((part, index) => {
    const name = part.materialName.replace(/\s+/g, '_');
    const uvs = textureFileName && part.texture ? part.uvs : undefined;
    materials.set(name, { color: part.color, textured: uvs !== undefined });
    obj.push(`o part_${index}`);
    for (let i = 0; i < part.positions.length; i += 3)
      obj.push(
        `v ${number(part.positions[i] as number)} ${number(part.positions[i + 1] as number)} ${number(part.positions[i + 2] as number)}`,
      );
    if (uvs) {
      for (let i = 0; i < uvs.length; i += 2)
        obj.push(`vt ${number(uvs[i] as number)} ${number(1 - (uvs[i + 1] as number))}`);
    }
    if (part.normals) {
      for (let i = 0; i < part.normals.length; i += 3)
        obj.push(
          `vn ${number(part.normals[i] as number)} ${number(part.normals[i + 1] as number)} ${number(part.normals[i + 2] as number)}`,
        );
    }
    obj.push(`usemtl ${name}`);
    for (let i = 0; i + 2 < part.indices.length; i += 3) {
      const corner = (k: number): string => {
        const local = part.indices[i + k] as number;
        const vertex = local + offset;
        const uv = uvs ? String(local + uvOffset) : '';
        if (part.normals) return `${vertex}/${uv}/${vertex}`;
        return uvs ? `${vertex}/${uv}` : String(vertex);
      };
      obj.push(`f ${corner(0)} ${corner(1)} ${corner(2)}`);
    }
    offset += part.positions.length / 3;
    if (uvs) uvOffset += uvs.length / 2;
  });
  const mtl = new TextFileWriter();
  mtl.push('# gen3d');
  for (const [name, { color, textured }] of materials)
    mtl.push(
      `newmtl ${name}`,
      `Kd ${number(color[0])} ${number(color[1])} ${number(color[2])}`,
      'Ka 0 0 0',
      'Ks 0.1 0.1 0.1',
      'd 1',
      'illum 2',
      ...(textured ? [`map_Kd ${textureFileName}`] : []),
      '',
    );
  return { obj: obj.bytes(), mtl: mtl.bytes() };
}

/** Whether an OBJ index (1-based, or negative: counted back from the last) names one of `count` elements. */
function refersWithin(field: string | undefined, count: number): boolean {
  const reference = Number(field);
  const resolved = reference < 0 ? count + reference + 1 : reference;
  return Number.isInteger(reference) && resolved >= 1 && resolved <= count;
}

/** Parses OBJ text: every vertex is numeric and every face refers to an existing vertex. */
export function checkObj(bytes: Uint8Array): MeshStats {
  const stats = new StatsCollector('OBJ');
  let textureCoordinates = 0;
  let lineNumber = 0;
  for (const rawLine of linesOf(bytes, 'OBJ')) {
    lineNumber += 1;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [keyword, ...fields] = line.split(/\s+/);
    if (keyword === 'v') {
      const [x, y, z] = fields.slice(0, 3).map(Number);
      if (fields.length < 3 || ![x, y, z].every((value) => Number.isFinite(value)))
        throw new InvalidMeshError('OBJ', `line ${lineNumber} is not a vertex`);
      stats.addVertex(x as number, y as number, z as number);
    } else if (keyword === 'vt') {
      if (fields.length < 1 || !fields.slice(0, 2).every((field) => Number.isFinite(Number(field))))
        throw new InvalidMeshError('OBJ', `line ${lineNumber} is not a texture coordinate`);
      textureCoordinates += 1;
    } else if (keyword === 'f') {
      if (fields.length < 3)
        throw new InvalidMeshError('OBJ', `line ${lineNumber}: a face needs three corners`);
      for (const corner of fields) {
        const [vertexField, uvField] = corner.split('/');
        if (!refersWithin(vertexField, stats.vertices))
          throw new InvalidMeshError('OBJ', `line ${lineNumber} refers to a missing vertex`);
        if (uvField && !refersWithin(uvField, textureCoordinates))
          throw new InvalidMeshError('OBJ', `line ${lineNumber} refers to a missing texture coordinate`);
      }
      stats.triangles += fields.length - 2;
    }
  }
  return stats.finish();
}

/** Parses MTL text: at least one material, every colour line numeric. */
export function checkMtl(bytes: Uint8Array): { materials: number } {
  let materials = 0;
  for (const rawLine of linesOf(bytes, 'MTL')) {
    const [keyword, ...fields] = rawLine.trim().split(/\s+/);
    if (keyword === 'newmtl') materials += 1;
    if (
      (keyword === 'Kd' || keyword === 'Ka' || keyword === 'Ks') &&
      !fields.slice(0, 3).every((field) => Number.isFinite(Number(field)))
    )
      throw new InvalidMeshError('MTL', `bad colour line "${rawLine.trim()}"`);
  }
  if (materials === 0) throw new InvalidMeshError('MTL', 'it defines no material');
  return { materials };
}
