import type { MeshBudget } from './mesh-checks.js';
import { InvalidMeshError } from './mesh-stats.js';

const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;
const COMPONENT_BYTES: Record<number, number> = { 5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4 };
const TYPE_COMPONENTS: Record<string, number> = {
  SCALAR: 1,
  VEC2: 2,
  VEC3: 3,
  VEC4: 4,
  MAT2: 4,
  MAT3: 9,
  MAT4: 16,
};
/** Bytes a baked vertex takes in the derived formats (position and normal as float32) plus its index. */
const BAKED_VERTEX_BYTES = 6 * 4 + 4;
/** Node visits allowed while counting instances: a node graph shared by many parents is refused, not walked. */
const MAX_NODE_VISITS = 100_000;

interface GltfAccessor {
  bufferView?: number;
  byteOffset?: number;
  componentType?: number;
  type?: string;
  count?: number;
  sparse?: { count?: number };
}

interface GltfJson {
  buffers?: Array<{ byteLength?: number }>;
  bufferViews?: Array<{ buffer?: number; byteOffset?: number; byteLength?: number; byteStride?: number }>;
  accessors?: GltfAccessor[];
  meshes?: Array<{ primitives?: Array<{ attributes?: Record<string, number>; indices?: number }> }>;
  nodes?: Array<{ mesh?: number; children?: number[] }>;
  scenes?: Array<{ nodes?: number[] }>;
}

/** The value when it is an array; a malformed file's other values read as empty. */
const listOf = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
const glb = (reason: string): InvalidMeshError => new InvalidMeshError('GLB', reason);
const nonNegativeInteger = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * The JSON chunk of a GLB container whose header and chunk lengths fit the bytes present. A JSON chunk over
 * `maxJsonBytes` is refused unparsed: parsed JSON takes many times its text in heap.
 */
function readContainer(bytes: Uint8Array, maxJsonBytes: number): { json: GltfJson; binBytes: number } {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < 20 || view.readUInt32LE(0) !== GLB_MAGIC)
    throw glb('it does not start with the glTF magic');
  if (view.readUInt32LE(4) !== 2) throw glb(`container version ${view.readUInt32LE(4)} is not 2`);
  const declared = view.readUInt32LE(8);
  if (declared > view.length)
    throw glb(`the header declares ${declared} bytes where the file holds ${view.length}`);
  const jsonLength = view.readUInt32LE(12);
  if (view.readUInt32LE(16) !== CHUNK_JSON || 20 + jsonLength > declared)
    throw glb('the first chunk is not a JSON chunk within the file');
  if (jsonLength > maxJsonBytes)
    throw glb(
      `its JSON chunk is ${jsonLength} bytes, over the ${maxJsonBytes} bytes a mesh worker reads (a thirty-second of its heap)`,
    );
  let json: unknown;
  try {
    json = JSON.parse(view.toString('utf8', 20, 20 + jsonLength));
  } catch {
    throw glb('its JSON chunk is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw glb('its JSON chunk is not an object');
  let binBytes = 0;
  const binStart = 20 + jsonLength + ((4 - (jsonLength % 4)) % 4);
  if (binStart + 8 <= declared && view.readUInt32LE(binStart + 4) === CHUNK_BIN) {
    binBytes = view.readUInt32LE(binStart);
    if (binStart + 8 + binBytes > declared)
      throw glb(`the BIN chunk declares ${binBytes} bytes that the file does not hold`);
  }
  return { json: json as GltfJson, binBytes };
}

function elementBytes(accessor: GltfAccessor, index: number): number {
  const component = COMPONENT_BYTES[accessor.componentType ?? -1];
  const components = TYPE_COMPONENTS[accessor.type ?? ''];
  if (!component || !components) throw glb(`accessor ${index} has an unknown component type or type`);
  return component * components;
}

/**
 * Bytes reading the accessor allocates: every accessor's data is copied out of the file (many accessors may
 * share one buffer view), bufferless and sparse ones are made whole. Backed accessors must fit their view.
 */
function decodedBytes(gltf: GltfJson, accessor: GltfAccessor, index: number, binBytes: number): number {
  if (!nonNegativeInteger(accessor.count)) throw glb(`accessor ${index} has no valid count`);
  const size = elementBytes(accessor, index) * accessor.count;
  if (accessor.bufferView === undefined) return size;
  const bufferView = nonNegativeInteger(accessor.bufferView)
    ? listOf(gltf.bufferViews)[accessor.bufferView]
    : undefined;
  if (!bufferView || !nonNegativeInteger(bufferView.byteLength))
    throw glb(`accessor ${index} names a missing buffer view`);
  const buffer = listOf(gltf.buffers)[0];
  const bufferBytes = bufferView.buffer === 0 ? Math.min(binBytes, buffer?.byteLength ?? 0) : 0;
  const viewOffset = nonNegativeInteger(bufferView.byteOffset) ? bufferView.byteOffset : 0;
  if (viewOffset + bufferView.byteLength > bufferBytes)
    throw glb(`buffer view ${accessor.bufferView} lies outside the file's binary chunk`);
  const stride = nonNegativeInteger(bufferView.byteStride)
    ? bufferView.byteStride
    : elementBytes(accessor, index);
  if (stride < elementBytes(accessor, index))
    throw glb(
      `buffer view ${accessor.bufferView} has a byteStride smaller than accessor ${index}'s elements`,
    );
  const offset = nonNegativeInteger(accessor.byteOffset) ? accessor.byteOffset : 0;
  const needed =
    accessor.count === 0 ? 0 : offset + (accessor.count - 1) * stride + elementBytes(accessor, index);
  if (needed > bufferView.byteLength)
    throw glb(
      `accessor ${index} declares ${accessor.count} elements needing ${needed} bytes where its buffer view holds ${bufferView.byteLength}`,
    );
  return size;
}

/** Bytes baked into world space for every instance of a mesh that the scenes reach. */
function instancedBytes(gltf: GltfJson): number {
  const meshBytes = (meshIndex: number): number => {
    let total = 0;
    for (const primitive of listOf(listOf(gltf.meshes)[meshIndex]?.primitives)) {
      const position = listOf(gltf.accessors)[primitive?.attributes?.POSITION ?? -1];
      const indices =
        primitive?.indices === undefined ? undefined : listOf(gltf.accessors)[primitive.indices];
      const vertices = nonNegativeInteger(position?.count) ? position.count : 0;
      total +=
        vertices * BAKED_VERTEX_BYTES + (nonNegativeInteger(indices?.count) ? indices.count : vertices) * 4;
    }
    return total;
  };
  let total = 0;
  let visits = 0;
  const stack: unknown[] = listOf(gltf.scenes).flatMap((scene) => listOf(scene?.nodes));
  while (stack.length > 0) {
    const nodeIndex = stack.pop();
    visits += 1;
    if (visits > MAX_NODE_VISITS) throw glb(`its scenes reach more than ${MAX_NODE_VISITS} node instances`);
    const node = nonNegativeInteger(nodeIndex) ? listOf(gltf.nodes)[nodeIndex] : undefined;
    if (!node) throw glb(`a scene refers to a missing node (${String(nodeIndex)})`);
    if (nonNegativeInteger(node.mesh)) total += meshBytes(node.mesh);
    for (const child of listOf(node.children)) stack.push(child);
  }
  return total;
}

/**
 * Checks a GLB's declared sizes against the bytes present before any library reads it: chunks, buffer views
 * and accessors must fit the file, and what reading it allocates (every accessor's data, bufferless and
 * sparse ones made whole, meshes baked once per instance) must stay under `maxDecodedBytes`.
 */
export function checkGlbBounds(
  bytes: Uint8Array,
  { maxDecodedBytes, maxJsonBytes }: Pick<MeshBudget, 'maxDecodedBytes' | 'maxJsonBytes'>,
): void {
  const { json, binBytes } = readContainer(bytes, maxJsonBytes);
  let decoded = 0;
  const budget = (): void => {
    if (decoded > maxDecodedBytes) {
      throw glb(
        `reading it would take ${Math.ceil(decoded / 2 ** 20)} MiB of accessor data and meshes baked per instance; the limit is ${Math.floor(maxDecodedBytes / 2 ** 20)} MiB`,
      );
    }
  };
  listOf(json.accessors).forEach((accessor, index) => {
    if (typeof accessor !== 'object' || accessor === null) throw glb(`accessor ${index} is not an object`);
    decoded += decodedBytes(json, accessor, index, binBytes);
    budget();
  });
  decoded += instancedBytes(json);
  budget();
}
