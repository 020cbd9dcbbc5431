// Meshes of known shape for the post-processing tests, written and read with the server's own GLB code
// (gltf-transform and Khronos' validator live in the server package).
import { readGlb, writeGlb } from '../../server/src/meshes/glb-format.js';
import { validateGlb } from '../../server/src/meshes/gltf-validation.js';
import { meshPartsOf, statsOf, type MeshPart, type MeshStats } from '../../server/src/meshes/mesh-parts.js';
import { documentOfParts } from '../../server/src/meshes/parts-document.js';

/** Where the grids lie: off the origin, 4 x 2 x 2 units, so re-centring has something to do. */
const X0 = 3;
const Z0 = -7;
const height = (x: number, z: number): number => Math.sin(x * 3) * Math.cos(z * 2);

/**
 * A wavy n x n grid of 2n² triangles. `shared`: neighbouring cells share their corners ((n+1)² vertices);
 * otherwise every cell has four corners of its own (4n² vertices, most of them duplicates).
 */
export function wavyGrid(n: number, { shared }: { shared: boolean }): MeshPart {
  const positions: number[] = [];
  const indices: number[] = [];
  const point = (i: number, j: number): number[] => {
    const x = (i / n) * 4;
    const z = (j / n) * 2;
    return [X0 + x, height(x, z), Z0 + z];
  };
  if (shared) {
    for (let j = 0; j <= n; j += 1) for (let i = 0; i <= n; i += 1) positions.push(...point(i, j));
    for (let j = 0; j < n; j += 1)
      for (let i = 0; i < n; i += 1) {
        const a = j * (n + 1) + i;
        const b = a + n + 1;
        indices.push(a, b, a + 1, a + 1, b, b + 1);
      }
  } else {
    for (let j = 0; j < n; j += 1)
      for (let i = 0; i < n; i += 1) {
        const base = positions.length / 3;
        positions.push(...point(i, j), ...point(i, j + 1), ...point(i + 1, j), ...point(i + 1, j + 1));
        indices.push(base, base + 1, base + 2, base + 2, base + 1, base + 3);
      }
  }
  return {
    materialName: 'clay',
    color: [0.8, 0.4, 0.2],
    positions: Float32Array.from(positions),
    normals: undefined,
    indices: Uint32Array.from(indices),
    texture: undefined,
    uvs: undefined,
  };
}

/** The parts as a GLB file. */
export async function glbOfParts(...parts: MeshPart[]): Promise<Buffer> {
  return Buffer.from(await writeGlb(documentOfParts(parts)));
}

/** Runs Khronos' validator over the GLB (throws on any error) and measures it. */
export async function validatedGlbStats(bytes: Uint8Array): Promise<MeshStats> {
  await validateGlb(bytes);
  return statsOf(meshPartsOf(await readGlb(bytes)));
}

/** The base colours of the GLB's materials, in order. */
export async function baseColorsOf(bytes: Uint8Array): Promise<number[][]> {
  const document = await readGlb(bytes);
  return document
    .getRoot()
    .listMaterials()
    .map((material) => material.getBaseColorFactor().slice(0, 3));
}

/** The bytes behind a signed asset URL. */
export async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`downloading ${url} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}
