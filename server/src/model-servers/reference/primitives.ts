/** Triangle geometry of one primitive, centred on the origin and fitting the unit cube [-0.5, 0.5]^3. */
export interface Geometry {
  positions: number[];
  normals: number[];
  indices: number[];
}

export const PrimitiveKinds = ['cube', 'sphere', 'cylinder', 'cone', 'torus', 'pyramid'] as const;
export type PrimitiveKind = (typeof PrimitiveKinds)[number];

/** Mesh density: segments around a curved primitive (and rings along a sphere). */
export type Detail = 8 | 16 | 32 | 48;

function empty(): Geometry {
  return { positions: [], normals: [], indices: [] };
}

function normalize(x: number, y: number, z: number): [number, number, number] {
  const length = Math.hypot(x, y, z) || 1;
  return [x / length, y / length, z / length];
}

/** A flat polygon (convex, counter-clockwise seen from its normal) appended as a triangle fan. */
function addFace(
  geometry: Geometry,
  corners: Array<[number, number, number]>,
  normal: [number, number, number],
): void {
  const base = geometry.positions.length / 3;
  for (const corner of corners) {
    geometry.positions.push(...corner);
    geometry.normals.push(...normal);
  }
  for (let i = 1; i + 1 < corners.length; i += 1) geometry.indices.push(base, base + i, base + i + 1);
}

/**
 * Two triangles per cell of a (rows + 1) x (columns + 1) vertex grid laid out row by row. With `poles`
 * the rows meet in a point at both ends (a sphere), so the degenerate triangles there are left out.
 */
function addGridTriangles(geometry: Geometry, rows: number, columns: number, poles: boolean): void {
  const perRow = columns + 1;
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      const a = row * perRow + column;
      const b = a + perRow;
      if (!poles || row > 0) geometry.indices.push(a, a + 1, b);
      if (!poles || row < rows - 1) geometry.indices.push(a + 1, b + 1, b);
    }
  }
}

function cube(): Geometry {
  const geometry = empty();
  const h = 0.5;
  addFace(
    geometry,
    [
      [-h, -h, h],
      [h, -h, h],
      [h, h, h],
      [-h, h, h],
    ],
    [0, 0, 1],
  );
  addFace(
    geometry,
    [
      [h, -h, -h],
      [-h, -h, -h],
      [-h, h, -h],
      [h, h, -h],
    ],
    [0, 0, -1],
  );
  addFace(
    geometry,
    [
      [h, -h, h],
      [h, -h, -h],
      [h, h, -h],
      [h, h, h],
    ],
    [1, 0, 0],
  );
  addFace(
    geometry,
    [
      [-h, -h, -h],
      [-h, -h, h],
      [-h, h, h],
      [-h, h, -h],
    ],
    [-1, 0, 0],
  );
  addFace(
    geometry,
    [
      [-h, h, h],
      [h, h, h],
      [h, h, -h],
      [-h, h, -h],
    ],
    [0, 1, 0],
  );
  addFace(
    geometry,
    [
      [-h, -h, -h],
      [h, -h, -h],
      [h, -h, h],
      [-h, -h, h],
    ],
    [0, -1, 0],
  );
  return geometry;
}

function sphere(detail: Detail): Geometry {
  const geometry = empty();
  const rings = Math.max(4, detail / 2);
  for (let ring = 0; ring <= rings; ring += 1) {
    const theta = (ring / rings) * Math.PI;
    for (let segment = 0; segment <= detail; segment += 1) {
      const phi = (segment / detail) * Math.PI * 2;
      const [x, y, z] = [Math.sin(theta) * Math.cos(phi), Math.cos(theta), Math.sin(theta) * Math.sin(phi)];
      geometry.positions.push(x * 0.5, y * 0.5, z * 0.5);
      geometry.normals.push(x, y, z);
    }
  }
  addGridTriangles(geometry, rings, detail, true);
  return geometry;
}

/** A cylinder or cone: a side of `detail` quads between two rings, and flat caps. */
function lathe(detail: Detail, topRadius: number): Geometry {
  const geometry = empty();
  const bottomRadius = 0.5;
  const slope = bottomRadius - topRadius;
  for (let segment = 0; segment < detail; segment += 1) {
    const a0 = (segment / detail) * Math.PI * 2;
    const a1 = ((segment + 1) / detail) * Math.PI * 2;
    const n0 = normalize(Math.cos(a0), slope, Math.sin(a0));
    const n1 = normalize(Math.cos(a1), slope, Math.sin(a1));
    const base = geometry.positions.length / 3;
    geometry.positions.push(
      Math.cos(a0) * bottomRadius,
      -0.5,
      Math.sin(a0) * bottomRadius,
      Math.cos(a1) * bottomRadius,
      -0.5,
      Math.sin(a1) * bottomRadius,
      Math.cos(a1) * topRadius,
      0.5,
      Math.sin(a1) * topRadius,
      Math.cos(a0) * topRadius,
      0.5,
      Math.sin(a0) * topRadius,
    );
    geometry.normals.push(...n0, ...n1, ...n1, ...n0);
    geometry.indices.push(base, base + 2, base + 1);
    if (topRadius > 0) geometry.indices.push(base, base + 3, base + 2);
  }
  const ring = (radius: number, y: number): Array<[number, number, number]> =>
    Array.from({ length: detail }, (_, segment) => {
      const angle = (segment / detail) * Math.PI * 2;
      return [Math.cos(angle) * radius, y, Math.sin(angle) * radius];
    });
  addFace(geometry, ring(bottomRadius, -0.5), [0, -1, 0]);
  if (topRadius > 0) addFace(geometry, ring(topRadius, 0.5).reverse(), [0, 1, 0]);
  return geometry;
}

function torus(detail: Detail): Geometry {
  const geometry = empty();
  const tube = 0.15;
  const radius = 0.5 - tube;
  const sides = Math.max(6, detail / 2);
  for (let segment = 0; segment <= detail; segment += 1) {
    const u = (segment / detail) * Math.PI * 2;
    for (let side = 0; side <= sides; side += 1) {
      const v = (side / sides) * Math.PI * 2;
      const [nx, ny, nz] = [Math.cos(v) * Math.cos(u), Math.sin(v), Math.cos(v) * Math.sin(u)];
      geometry.positions.push(radius * Math.cos(u) + tube * nx, tube * ny, radius * Math.sin(u) + tube * nz);
      geometry.normals.push(nx, ny, nz);
    }
  }
  addGridTriangles(geometry, detail, sides, false);
  return geometry;
}

function pyramid(): Geometry {
  const geometry = empty();
  const h = 0.5;
  const apex: [number, number, number] = [0, h, 0];
  const base: Array<[number, number, number]> = [
    [-h, -h, h],
    [h, -h, h],
    [h, -h, -h],
    [-h, -h, -h],
  ];
  for (let side = 0; side < 4; side += 1) {
    const a = base[side] as [number, number, number];
    const b = base[(side + 1) % 4] as [number, number, number];
    const mid = [(a[0] + b[0]) / 2, 0, (a[2] + b[2]) / 2];
    addFace(geometry, [a, b, apex], normalize(mid[0] as number, 0.5, mid[2] as number));
  }
  addFace(geometry, [...base].reverse(), [0, -1, 0]);
  return geometry;
}

/** The geometry of a primitive at the given density (flat-sided primitives ignore it). */
export function buildPrimitive(kind: PrimitiveKind, detail: Detail): Geometry {
  switch (kind) {
    case 'cube':
      return cube();
    case 'sphere':
      return sphere(detail);
    case 'cylinder':
      return lathe(detail, 0.5);
    case 'cone':
      return lathe(detail, 0);
    case 'torus':
      return torus(detail);
    case 'pyramid':
      return pyramid();
  }
}
