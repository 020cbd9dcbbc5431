import type { DecodedImage } from './image-input.js';

/** A triangle mesh with texture coordinates (glTF's way: origin at the image's top-left corner). */
export interface TexturedGeometry {
  positions: number[];
  normals: number[];
  uvs: number[];
  indices: number[];
}

export type SilhouetteSource = 'alpha' | 'background' | 'whole image';

export interface Relief {
  geometry: TexturedGeometry;
  /** Cells across and down the height field. */
  columns: number;
  rows: number;
  /** Cells inside the silhouette. */
  foreground: number;
  silhouette: SilhouetteSource;
}

export interface ReliefOptions {
  /** Cells on the image's long side (fewer when the image has fewer pixels). */
  cells: number;
  /** How far the brightest cell stands out of the front face. */
  depth: number;
  /** The distance between the back face and the darkest front. */
  thickness: number;
}

/** A colour this far (RGB, 0-255 per channel) from the background's is foreground. */
const BACKGROUND_DISTANCE = 40;
/** Share of the border that must hold one colour for it to count as a flat background. */
const BACKGROUND_SHARE = 0.5;

interface Cells {
  columns: number;
  rows: number;
  /** RGBA per cell, 0-255, the mean of the pixels it covers. */
  rgba: Float64Array;
}

/** The image averaged over a grid of cells (a box filter): cell (c, r) covers its share of the pixels. */
function cellsOf(image: DecodedImage, long: number): Cells {
  const scale = long / Math.max(image.width, image.height);
  const columns = Math.max(1, Math.min(image.width, Math.round(image.width * scale)));
  const rows = Math.max(1, Math.min(image.height, Math.round(image.height * scale)));
  const rgba = new Float64Array(columns * rows * 4);
  for (let row = 0; row < rows; row += 1) {
    const y0 = Math.floor((row * image.height) / rows);
    const y1 = Math.floor(((row + 1) * image.height) / rows);
    for (let column = 0; column < columns; column += 1) {
      const x0 = Math.floor((column * image.width) / columns);
      const x1 = Math.floor(((column + 1) * image.width) / columns);
      const cell = (row * columns + column) * 4;
      for (let y = y0; y < y1; y += 1)
        for (let x = x0; x < x1; x += 1)
          for (let channel = 0; channel < 4; channel += 1)
            (rgba[cell + channel] as number) += image.pixels[(y * image.width + x) * 4 + channel] as number;
      const count = (x1 - x0) * (y1 - y0);
      for (let channel = 0; channel < 4; channel += 1) (rgba[cell + channel] as number) /= count;
    }
  }
  return { columns, rows, rgba };
}

/**
 * Which cells are the subject: opaque ones when the image has transparency; otherwise those unlike a flat
 * background colour filling most of the border; the whole image when neither gives a silhouette.
 */
function silhouetteOf(cells: Cells, hasAlpha: boolean): { mask: Uint8Array; source: SilhouetteSource } {
  const { columns, rows, rgba } = cells;
  const total = columns * rows;
  const mask = new Uint8Array(total);
  const whole = (): { mask: Uint8Array; source: SilhouetteSource } => ({
    mask: mask.fill(1),
    source: 'whole image',
  });
  const settle = (source: SilhouetteSource): { mask: Uint8Array; source: SilhouetteSource } | undefined => {
    const foreground = mask.reduce((sum, cell) => sum + cell, 0);
    return foreground > 0 && foreground < total ? { mask, source } : undefined;
  };
  if (hasAlpha) {
    for (let cell = 0; cell < total; cell += 1) mask[cell] = (rgba[cell * 4 + 3] as number) >= 128 ? 1 : 0;
    const byAlpha = settle('alpha');
    if (byAlpha) return byAlpha;
  }
  const border: number[] = [];
  for (let cell = 0; cell < total; cell += 1) {
    const column = cell % columns;
    const row = Math.floor(cell / columns);
    if (column === 0 || row === 0 || column === columns - 1 || row === rows - 1) border.push(cell);
  }
  const bucketOf = (cell: number): number =>
    ((rgba[cell * 4] as number) >> 5) * 64 +
    ((rgba[cell * 4 + 1] as number) >> 5) * 8 +
    ((rgba[cell * 4 + 2] as number) >> 5);
  const counts = new Map<number, number>();
  for (const cell of border) counts.set(bucketOf(cell), (counts.get(bucketOf(cell)) ?? 0) + 1);
  // The lowest bucket among equally common ones, so the choice does not depend on the map's order.
  const [bucket, count] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [0, 0];
  if (count < border.length * BACKGROUND_SHARE) return whole();
  const background = [0, 0, 0];
  const inBucket = border.filter((cell) => bucketOf(cell) === bucket);
  for (const cell of inBucket)
    for (let channel = 0; channel < 3; channel += 1)
      (background[channel] as number) += (rgba[cell * 4 + channel] as number) / inBucket.length;
  for (let cell = 0; cell < total; cell += 1) {
    const distance = Math.hypot(
      (rgba[cell * 4] as number) - (background[0] as number),
      (rgba[cell * 4 + 1] as number) - (background[1] as number),
      (rgba[cell * 4 + 2] as number) - (background[2] as number),
    );
    mask[cell] = distance > BACKGROUND_DISTANCE ? 1 : 0;
  }
  return settle('background') ?? whole();
}

/** Relative luminance of a cell, 0-1 (Rec. 709 weights on the sRGB values). */
const luminanceOf = (rgba: Float64Array, cell: number): number =>
  (0.2126 * (rgba[cell * 4] as number) +
    0.7152 * (rgba[cell * 4 + 1] as number) +
    0.0722 * (rgba[cell * 4 + 2] as number)) /
  255;

/**
 * A relief of the image: the silhouette extruded into a slab (flat back, straight walls) whose front rises
 * with the luminance of the image. The front and back are UV-mapped to the image; each wall takes the
 * coordinates of the silhouette edge it stands on. It stands on y = 0, centred on x, its long side 2 units.
 */
export function reliefOf(image: DecodedImage, options: ReliefOptions): Relief {
  const cells = cellsOf(image, options.cells);
  const { columns, rows, rgba } = cells;
  const { mask, source } = silhouetteOf(cells, image.hasAlpha);
  const inside = (column: number, row: number): boolean =>
    column >= 0 && row >= 0 && column < columns && row < rows && mask[row * columns + column] === 1;
  const size = 2 / Math.max(columns, rows);
  const xOf = (i: number): number => (i - columns / 2) * size;
  const yOf = (j: number): number => (rows - j) * size;
  const back = -options.thickness / 2;

  // A grid vertex's height: the mean luminance of the foreground cells around it.
  const heights = new Float64Array((columns + 1) * (rows + 1)).fill(Number.NaN);
  for (let j = 0; j <= rows; j += 1)
    for (let i = 0; i <= columns; i += 1) {
      let sum = 0;
      let count = 0;
      for (const [column, row] of [
        [i - 1, j - 1],
        [i, j - 1],
        [i - 1, j],
        [i, j],
      ] as const)
        if (inside(column, row)) {
          sum += luminanceOf(rgba, row * columns + column);
          count += 1;
        }
      if (count > 0) heights[j * (columns + 1) + i] = options.thickness / 2 + (options.depth * sum) / count;
    }
  const heightAt = (i: number, j: number): number | undefined => {
    if (i < 0 || j < 0 || i > columns || j > rows) return undefined;
    const height = heights[j * (columns + 1) + i] as number;
    return Number.isNaN(height) ? undefined : height;
  };

  const geometry: TexturedGeometry = { positions: [], normals: [], uvs: [], indices: [] };
  const addVertex = (i: number, j: number, z: number, normal: readonly number[]): number => {
    geometry.positions.push(xOf(i), yOf(j), z);
    geometry.normals.push(normal[0] as number, normal[1] as number, normal[2] as number);
    geometry.uvs.push(i / columns, j / rows);
    return geometry.positions.length / 3 - 1;
  };

  // Front: one vertex per grid point of the silhouette, its normal from the height field's slope.
  const front = new Int32Array((columns + 1) * (rows + 1)).fill(-1);
  const backIndex = new Int32Array((columns + 1) * (rows + 1)).fill(-1);
  for (let j = 0; j <= rows; j += 1)
    for (let i = 0; i <= columns; i += 1) {
      const height = heightAt(i, j);
      if (height === undefined) continue;
      const left = heightAt(i - 1, j);
      const right = heightAt(i + 1, j);
      const up = heightAt(i, j - 1);
      const down = heightAt(i, j + 1);
      const dx =
        ((right ?? height) - (left ?? height)) /
        (((right === undefined ? 0 : 1) + (left === undefined ? 0 : 1)) * size || 1);
      // y grows upwards while j grows downwards.
      const dy =
        ((up ?? height) - (down ?? height)) /
        (((up === undefined ? 0 : 1) + (down === undefined ? 0 : 1)) * size || 1);
      const length = Math.hypot(dx, dy, 1);
      front[j * (columns + 1) + i] = addVertex(i, j, height, [-dx / length, -dy / length, 1 / length]);
    }
  for (let j = 0; j <= rows; j += 1)
    for (let i = 0; i <= columns; i += 1)
      if (heightAt(i, j) !== undefined) backIndex[j * (columns + 1) + i] = addVertex(i, j, back, [0, 0, -1]);

  const at = (grid: Int32Array, i: number, j: number): number => grid[j * (columns + 1) + i] as number;
  let foreground = 0;
  for (let row = 0; row < rows; row += 1)
    for (let column = 0; column < columns; column += 1) {
      if (!inside(column, row)) continue;
      foreground += 1;
      const [i, j] = [column, row];
      // Corners top-left, bottom-left, bottom-right, top-right: counter-clockwise seen from +z with y up.
      const corners = (grid: Int32Array): [number, number, number, number] => [
        at(grid, i, j),
        at(grid, i, j + 1),
        at(grid, i + 1, j + 1),
        at(grid, i + 1, j),
      ];
      const [f0, f1, f2, f3] = corners(front);
      geometry.indices.push(f0, f1, f2, f0, f2, f3);
      const [b0, b1, b2, b3] = corners(backIndex);
      geometry.indices.push(b0, b2, b1, b0, b3, b2);
      // Walls where the neighbour is outside the silhouette: from corner a to corner b, facing `outward`.
      const walls: Array<[boolean, [number, number], [number, number], [number, number, number]]> = [
        [!inside(column - 1, row), [i, j], [i, j + 1], [-1, 0, 0]],
        [!inside(column + 1, row), [i + 1, j + 1], [i + 1, j], [1, 0, 0]],
        [!inside(column, row - 1), [i + 1, j], [i, j], [0, 1, 0]],
        [!inside(column, row + 1), [i, j + 1], [i + 1, j + 1], [0, -1, 0]],
      ];
      for (const [open, [ai, aj], [bi, bj], outward] of walls) {
        if (!open) continue;
        const topA = addVertex(ai, aj, heightAt(ai, aj) as number, outward);
        const bottomA = addVertex(ai, aj, back, outward);
        const bottomB = addVertex(bi, bj, back, outward);
        const topB = addVertex(bi, bj, heightAt(bi, bj) as number, outward);
        geometry.indices.push(topA, bottomA, bottomB, topA, bottomB, topB);
      }
    }
  return { geometry, columns, rows, foreground, silhouette: source };
}
