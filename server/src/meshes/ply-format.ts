import type { MeshPart } from './mesh-parts.js';
import { InvalidMeshError, StatsCollector, type MeshStats } from './mesh-stats.js';

const toByte = (channel: number): number => Math.max(0, Math.min(255, Math.round(channel * 255)));

/**
 * Binary little-endian PLY with positions, normals and per-vertex colours: those sampled from a texture
 * when a part has them (texture-colours.ts), its material's base colour otherwise.
 */
export function writePly(parts: MeshPart[]): Buffer {
  const vertexCount = parts.reduce((sum, part) => sum + part.positions.length / 3, 0);
  const faceCount = parts.reduce((sum, part) => sum + Math.floor(part.indices.length / 3), 0);
  const header = [
    'ply',
    'format binary_little_endian 1.0',
    'comment gen3d',
    `element vertex ${vertexCount}`,
    'property float x',
    'property float y',
    'property float z',
    'property float nx',
    'property float ny',
    'property float nz',
    'property uchar red',
    'property uchar green',
    'property uchar blue',
    `element face ${faceCount}`,
    'property list uchar uint vertex_indices',
    'end_header',
    '',
  ].join('\n');
  const VERTEX_BYTES = 6 * 4 + 3;
  const FACE_BYTES = 1 + 3 * 4;
  const body = Buffer.alloc(vertexCount * VERTEX_BYTES + faceCount * FACE_BYTES);
  let at = 0;
  for (const part of parts) {
    const [r, g, b] = part.color.map(toByte) as [number, number, number];
    const colors = part.vertexColors;
    for (let vertex = 0; vertex < part.positions.length / 3; vertex += 1) {
      for (let axis = 0; axis < 3; axis += 1)
        at = body.writeFloatLE(part.positions[vertex * 3 + axis] as number, at);
      for (let axis = 0; axis < 3; axis += 1)
        at = body.writeFloatLE(part.normals?.[vertex * 3 + axis] ?? 0, at);
      at = body.writeUInt8(colors ? (colors[vertex * 3] as number) : r, at);
      at = body.writeUInt8(colors ? (colors[vertex * 3 + 1] as number) : g, at);
      at = body.writeUInt8(colors ? (colors[vertex * 3 + 2] as number) : b, at);
    }
  }
  let offset = 0;
  for (const part of parts) {
    for (let i = 0; i + 2 < part.indices.length; i += 3) {
      at = body.writeUInt8(3, at);
      for (let k = 0; k < 3; k += 1) at = body.writeUInt32LE((part.indices[i + k] as number) + offset, at);
    }
    offset += part.positions.length / 3;
  }
  return Buffer.concat([Buffer.from(header, 'ascii'), body]);
}

type ScalarType = 'char' | 'uchar' | 'short' | 'ushort' | 'int' | 'uint' | 'float' | 'double';

const SIZES: Record<ScalarType, number> = {
  char: 1,
  uchar: 1,
  short: 2,
  ushort: 2,
  int: 4,
  uint: 4,
  float: 4,
  double: 8,
};
const ALIASES: Record<string, ScalarType> = {
  char: 'char',
  int8: 'char',
  uchar: 'uchar',
  uint8: 'uchar',
  short: 'short',
  int16: 'short',
  ushort: 'ushort',
  uint16: 'ushort',
  int: 'int',
  int32: 'int',
  uint: 'uint',
  uint32: 'uint',
  float: 'float',
  float32: 'float',
  double: 'double',
  float64: 'double',
};

interface Property {
  name: string;
  type: ScalarType;
  /** For list properties, the type of the length prefix. */
  countType?: ScalarType;
}

interface Element {
  name: string;
  count: number;
  properties: Property[];
}

function scalarType(name: string | undefined): ScalarType {
  const type = name === undefined ? undefined : ALIASES[name];
  if (!type) throw new InvalidMeshError('PLY', `unknown property type "${name}"`);
  return type;
}

function readScalar(buffer: Buffer, at: number, type: ScalarType): number {
  switch (type) {
    case 'char':
      return buffer.readInt8(at);
    case 'uchar':
      return buffer.readUInt8(at);
    case 'short':
      return buffer.readInt16LE(at);
    case 'ushort':
      return buffer.readUInt16LE(at);
    case 'int':
      return buffer.readInt32LE(at);
    case 'uint':
      return buffer.readUInt32LE(at);
    case 'float':
      return buffer.readFloatLE(at);
    case 'double':
      return buffer.readDoubleLE(at);
  }
}

/** Where the `end_header` line starts (a comment may mention the word); -1 when there is none. */
function headerEnd(file: Buffer): number {
  const marker = '\nend_header';
  for (let at = file.indexOf(marker); at >= 0; at = file.indexOf(marker, at + 1)) {
    const next = file[at + marker.length];
    if (next === undefined || next === 0x0a || next === 0x0d) return at + 1;
  }
  return -1;
}

function parseHeader(file: Buffer): { format: string; elements: Element[]; bodyStart: number } {
  const end = headerEnd(file);
  if (
    !file.subarray(0, 4).equals(Buffer.from('ply\n')) &&
    !file.subarray(0, 5).equals(Buffer.from('ply\r\n'))
  )
    throw new InvalidMeshError('PLY', 'it does not start with "ply"');
  if (end < 0) throw new InvalidMeshError('PLY', 'the header has no end_header');
  const newline = file.indexOf('\n', end);
  const elements: Element[] = [];
  let format = '';
  for (const line of file.subarray(0, end).toString('ascii').split(/\r?\n/)) {
    const [keyword, ...fields] = line.trim().split(/\s+/);
    if (keyword === 'format') format = fields[0] ?? '';
    else if (keyword === 'element') {
      const count = Number(fields[1]);
      if (!Number.isSafeInteger(count) || count < 0)
        throw new InvalidMeshError('PLY', `bad element count in "${line.trim()}"`);
      elements.push({ name: fields[0] ?? '', count, properties: [] });
    } else if (keyword === 'property') {
      const element = elements.at(-1);
      if (!element) throw new InvalidMeshError('PLY', 'a property comes before any element');
      if (fields[0] === 'list')
        element.properties.push({
          name: fields[3] ?? '',
          countType: scalarType(fields[1]),
          type: scalarType(fields[2]),
        });
      else element.properties.push({ name: fields[1] ?? '', type: scalarType(fields[0]) });
    }
  }
  if (format !== 'ascii' && format !== 'binary_little_endian')
    throw new InvalidMeshError('PLY', `format "${format}" is not supported (ascii or binary_little_endian)`);
  return { format, elements, bodyStart: newline < 0 ? file.length : newline + 1 };
}

const isSpace = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The whitespace-separated values of an ASCII body, read in place (a split would hold every value as a string). */
class AsciiTokens {
  private at: number;
  /** Values not read yet. */
  left = 0;

  constructor(
    private readonly file: Buffer,
    start: number,
  ) {
    this.at = start;
    for (let index = start; index < file.length; index += 1) {
      if (!isSpace(file[index]) && (index === start || isSpace(file[index - 1]))) this.left += 1;
    }
  }

  /** The next value as a number; NaN past the end or for a non-number. */
  next(): number {
    while (this.at < this.file.length && isSpace(this.file[this.at])) this.at += 1;
    const start = this.at;
    while (this.at < this.file.length && !isSpace(this.file[this.at])) this.at += 1;
    if (start === this.at) return NaN;
    this.left -= 1;
    return Number(this.file.toString('ascii', start, this.at));
  }
}

/** The fewest bytes (binary) or tokens (ASCII) one row of the element takes: lists may be empty. */
function minimumRowSize(element: Element, format: string): number {
  if (format === 'ascii') return element.properties.length;
  return element.properties.reduce((sum, property) => sum + SIZES[property.countType ?? property.type], 0);
}

/**
 * Refuses counts the file cannot hold before any row is read: every row takes at least its minimum size, so
 * the walk that follows is linear in the bytes actually present.
 */
function checkCountsAgainstBody(elements: Element[], format: string, available: number): void {
  let needed = 0;
  for (const element of elements) {
    if (element.count === 0) continue;
    const rowSize = minimumRowSize(element, format);
    if (rowSize === 0)
      throw new InvalidMeshError(
        'PLY',
        `element "${element.name}" declares ${element.count} rows but no properties`,
      );
    needed += element.count * rowSize;
    if (needed > available) {
      const unit = format === 'ascii' ? 'values' : 'bytes';
      throw new InvalidMeshError(
        'PLY',
        `element "${element.name}" declares ${element.count} rows, needing at least ${needed} ${unit} where the body holds ${available}`,
      );
    }
  }
}

/** What a reader keeps of the rows while the body is walked (`readPly`). */
interface PlyRows {
  vertex(values: Record<string, number>): void;
  face(corners: number[]): void;
}

/** Reads rows of every element, handing vertex positions and face sizes to the collector (and rows to `rows`). */
function walkBody(
  file: Buffer,
  format: string,
  elements: Element[],
  bodyStart: number,
  stats: StatsCollector,
  rows?: PlyRows,
): void {
  const tokens = format === 'ascii' ? new AsciiTokens(file, bodyStart) : undefined;
  checkCountsAgainstBody(elements, format, tokens ? tokens.left : file.length - bodyStart);
  let at = bodyStart;
  const remaining = (): number => (tokens ? tokens.left : file.length - at);
  const next = (type: ScalarType): number => {
    if (tokens) {
      const value = tokens.next();
      if (!Number.isFinite(value))
        throw new InvalidMeshError('PLY', 'the body ends early or holds a non-number');
      return value;
    }
    if (at + SIZES[type] > file.length)
      throw new InvalidMeshError('PLY', 'the body is shorter than its header says');
    const value = readScalar(file, at, type);
    at += SIZES[type];
    return value;
  };
  let vertexCount = 0;
  for (const element of elements) {
    for (let row = 0; row < element.count; row += 1) {
      const values: Record<string, number> = {};
      for (const property of element.properties) {
        if (property.countType) {
          const length = next(property.countType);
          const itemSize = format === 'ascii' ? 1 : SIZES[property.type];
          if (!Number.isInteger(length) || length < 0 || length * itemSize > remaining()) {
            throw new InvalidMeshError(
              'PLY',
              `row ${row} of "${element.name}" declares a list of ${length} items that the file does not hold`,
            );
          }
          let smallest = Infinity;
          let largest = -Infinity;
          const corners: number[] | undefined = rows && element.name === 'face' ? [] : undefined;
          for (let item = 0; item < length; item += 1) {
            const value = next(property.type);
            if (value < smallest) smallest = value;
            if (value > largest) largest = value;
            corners?.push(value);
          }
          if (element.name === 'face') {
            if (length < 3 || smallest < 0 || largest >= vertexCount)
              throw new InvalidMeshError('PLY', `face ${row} refers to a missing vertex`);
            stats.triangles += length - 2;
            if (corners) rows?.face(corners);
          }
        } else {
          values[property.name] = next(property.type);
        }
      }
      if (element.name === 'vertex') {
        stats.addVertex(values.x ?? NaN, values.y ?? NaN, values.z ?? NaN);
        rows?.vertex(values);
      }
    }
    if (element.name === 'vertex') vertexCount = element.count;
  }
}

/** Parses a PLY file (ASCII or binary little-endian): sizes match the header and faces refer to vertices. */
export function checkPly(file: Buffer, rows?: PlyRows): MeshStats {
  const { format, elements, bodyStart } = parseHeader(file);
  const vertex = elements.find((element) => element.name === 'vertex');
  if (
    !vertex ||
    !['x', 'y', 'z'].every((axis) => vertex.properties.some((property) => property.name === axis))
  )
    throw new InvalidMeshError('PLY', 'it has no vertex positions');
  const stats = new StatsCollector('PLY');
  walkBody(file, format, elements, bodyStart, stats, rows);
  return stats.finish();
}

const DEFAULT_COLOR: MeshPart['color'] = [0.8, 0.8, 0.8];

/**
 * The triangles of a PLY file (polygons split into fans), with normals when every vertex has them. Faces go
 * into one part per colour of their first vertex (gen3d's PLY files colour each part's vertices alike).
 */
export function readPly(file: Buffer): MeshPart[] {
  const positions: number[] = [];
  const normals: number[] = [];
  const colors: string[] = [];
  let withNormals = true;
  const byColor = new Map<string, number[]>();
  checkPly(file, {
    vertex(values) {
      positions.push(values.x as number, values.y as number, values.z as number);
      const { nx, ny, nz } = values;
      const length = Math.hypot(nx ?? 0, ny ?? 0, nz ?? 0);
      if (nx === undefined || ny === undefined || nz === undefined || !(length > 0)) withNormals = false;
      else normals.push(nx / length, ny / length, nz / length);
      const { red, green, blue } = values;
      colors.push(
        red === undefined || green === undefined || blue === undefined ? '' : `${red},${green},${blue}`,
      );
    },
    face(corners) {
      const color = colors[corners[0] as number] ?? '';
      let indices = byColor.get(color);
      if (!indices) {
        indices = [];
        byColor.set(color, indices);
      }
      for (let i = 1; i + 1 < corners.length; i += 1)
        indices.push(corners[0] as number, corners[i] as number, corners[i + 1] as number);
    },
  });
  let index = 0;
  return [...byColor].map(([color, indices]) => {
    // Each part keeps only the vertices its faces use, renumbered.
    const renumbered = new Map<number, number>();
    const partPositions: number[] = [];
    const partNormals: number[] = [];
    const partIndices = indices.map((vertex) => {
      let local = renumbered.get(vertex);
      if (local === undefined) {
        local = renumbered.size;
        renumbered.set(vertex, local);
        partPositions.push(...positions.slice(vertex * 3, vertex * 3 + 3));
        if (withNormals) partNormals.push(...normals.slice(vertex * 3, vertex * 3 + 3));
      }
      return local;
    });
    // Colours are read as bytes (0-255), the PLY convention and what gen3d writes.
    const rgb =
      color === ''
        ? DEFAULT_COLOR
        : (color
            .split(',')
            .map((channel) => Math.max(0, Math.min(1, Number(channel) / 255))) as MeshPart['color']);
    index += 1;
    return {
      materialName: color === '' ? 'default' : `color_${index}`,
      color: rgb,
      positions: Float32Array.from(partPositions),
      normals: withNormals ? Float32Array.from(partNormals) : undefined,
      indices: Uint32Array.from(partIndices),
      texture: undefined,
      uvs: undefined,
    };
  });
}
