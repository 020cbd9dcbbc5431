/**
 * Small mesh files that declare far more than they hold: the inputs a parser must refuse before it
 * allocates what they declare.
 */

const JSON_CHUNK = 0x4e4f534a;
const BIN_CHUNK = 0x004e4942;

const padded = (bytes: Buffer, fill: number): Buffer =>
  bytes.length % 4 === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(4 - (bytes.length % 4), fill)]);

/** A GLB container around the JSON and an optional binary chunk. */
export function glbOf(json: Record<string, unknown>, bin?: Buffer): Buffer {
  const text = padded(Buffer.from(JSON.stringify(json), 'utf8'), 0x20);
  const chunks: Buffer[] = [];
  const chunkHeader = (length: number, type: number): Buffer => {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(length, 0);
    bytes.writeUInt32LE(type, 4);
    return bytes;
  };
  chunks.push(chunkHeader(text.length, JSON_CHUNK), text);
  if (bin) {
    const body = padded(bin, 0);
    chunks.push(chunkHeader(body.length, BIN_CHUNK), body);
  }
  const rest = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.writeUInt32LE(0x46546c67, 0);
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(12 + rest.length, 8);
  return Buffer.concat([header, rest]);
}

/** One triangle's positions, as a buffer and the JSON that describes it. */
function triangle(): { bin: Buffer; json: Record<string, unknown> } {
  const bin = Buffer.alloc(36);
  [0, 0, 0, 1, 0, 0, 0, 1, 0].forEach((value, index) => bin.writeFloatLE(value, index * 4));
  return {
    bin,
    json: {
      asset: { version: '2.0' },
      buffers: [{ byteLength: 36 }],
      bufferViews: [{ buffer: 0, byteOffset: 0, byteLength: 36 }],
      accessors: [
        { bufferView: 0, componentType: 5126, type: 'VEC3', count: 3, min: [0, 0, 0], max: [1, 1, 0] },
      ],
      meshes: [{ primitives: [{ attributes: { POSITION: 0 } }] }],
    },
  };
}

/** A well-formed GLB: one triangle under a node with the given translation, rotation and scale. */
export function glbWithPlacedTriangle(node: {
  translation?: number[];
  rotation?: number[];
  scale?: number[];
}): Buffer {
  const { bin, json } = triangle();
  return glbOf({ ...json, nodes: [{ mesh: 0, ...node }], scenes: [{ nodes: [0] }], scene: 0 }, bin);
}

/** A GLB whose only accessor has no buffer view and declares `count` vertices (a reader fills them with zeros). */
export function glbWithBufferlessAccessor(count: number): Buffer {
  return glbOf({
    asset: { version: '2.0' },
    accessors: [{ componentType: 5126, type: 'VEC3', count, min: [0, 0, 0], max: [0, 0, 0] }],
    meshes: [{ primitives: [{ attributes: { POSITION: 0 } }] }],
    nodes: [{ mesh: 0 }],
    scenes: [{ nodes: [0] }],
    scene: 0,
  });
}

/** A GLB with a sparse accessor of `count` elements, two of them given. */
export function glbWithSparseAccessor(count: number): Buffer {
  const { bin, json } = triangle();
  const sparse = Buffer.alloc(4 + 24);
  sparse.writeUInt16LE(0, 0);
  sparse.writeUInt16LE(1, 2);
  return glbOf(
    {
      ...json,
      buffers: [{ byteLength: 64 }],
      bufferViews: [
        { buffer: 0, byteOffset: 0, byteLength: 36 },
        { buffer: 0, byteOffset: 36, byteLength: 4 },
        { buffer: 0, byteOffset: 40, byteLength: 24 },
      ],
      accessors: [
        (json.accessors as unknown[])[0],
        {
          componentType: 5126,
          type: 'VEC3',
          count,
          sparse: { count: 2, indices: { bufferView: 1, componentType: 5123 }, values: { bufferView: 2 } },
        },
      ],
      meshes: [
        { primitives: [{ attributes: { POSITION: 0 } }] },
        { primitives: [{ attributes: { POSITION: 1 } }] },
      ],
      nodes: [{ mesh: 0 }],
      scenes: [{ nodes: [0] }],
      scene: 0,
    },
    Buffer.concat([bin, sparse]),
  );
}

/** A GLB whose node graph shares each level twice: `depth` levels reach 2^depth instances of one triangle. */
export function glbWithSharedNodes(depth: number): Buffer {
  const { bin, json } = triangle();
  const nodes: Array<Record<string, unknown>> = [];
  for (let level = 0; level < depth; level += 1) nodes.push({ children: [level + 1, level + 1] });
  nodes.push({ mesh: 0 });
  return glbOf({ ...json, nodes, scenes: [{ nodes: [0] }], scene: 0 }, bin);
}

/** A PLY header for one triangle (three xyz vertices, one face), with `before` lines ahead of its elements. */
function trianglePlyHeader(
  format: 'ascii' | 'binary_little_endian',
  faceList: string,
  before: string[] = [],
): string[] {
  return [
    'ply',
    `format ${format} 1.0`,
    ...before,
    'element vertex 3',
    'property float x',
    'property float y',
    'property float z',
    'element face 1',
    `property list ${faceList} vertex_indices`,
    'end_header',
  ];
}

/** The ASCII body of that triangle. */
const ASCII_TRIANGLE = ['0 0 0', '1 0 0', '0 1 0', '3 0 1 2', ''];

/** The report's 300-byte ASCII PLY: an element of 2^53-1 rows before a valid triangle. */
export function plyWithHugeElement(property = ''): Buffer {
  return Buffer.from(
    [
      ...trianglePlyHeader('ascii', 'uchar int', [
        'comment an element that declares more rows than any file could hold',
        'element junk 9007199254740991',
        ...(property ? [property] : []),
      ]),
      ...ASCII_TRIANGLE,
    ].join('\n'),
    'ascii',
  );
}

/** A binary PLY whose one face declares a list of four billion indices. */
export function plyWithHugeList(): Buffer {
  const header = Buffer.from(
    [...trianglePlyHeader('binary_little_endian', 'uint uint'), ''].join('\n'),
    'ascii',
  );
  const body = Buffer.alloc(36 + 4 + 12);
  [0, 0, 0, 1, 0, 0, 0, 1, 0].forEach((value, index) => body.writeFloatLE(value, index * 4));
  body.writeUInt32LE(4_000_000_000, 36);
  return Buffer.concat([header, body]);
}

/** A valid GLB whose JSON carries `values` numbers of padding in `extras`: cheap in bytes, heavy once parsed. */
export function glbWithHeavyJson(values: number): Buffer {
  const { bin, json } = triangle();
  return glbOf(
    {
      ...json,
      nodes: [{ mesh: 0 }],
      scenes: [{ nodes: [0] }],
      scene: 0,
      extras: { padding: new Array<number>(values).fill(7) },
    },
    bin,
  );
}

/** A valid GLB with `count` empty nodes besides the mesh's: a small file whose readers build an object per node. */
export function glbWithManyNodes(count: number): Buffer {
  const { bin, json } = triangle();
  return glbOf(
    {
      ...json,
      nodes: [{ mesh: 0 }, ...Array.from({ length: count }, () => ({}))],
      scenes: [{ nodes: [0] }],
      scene: 0,
    },
    bin,
  );
}

/** A GLB whose `accessors` accessors all read one buffer view of `viewBytes` bytes: small file, large copies. */
export function glbWithSharedBufferView(accessors: number, viewBytes: number): Buffer {
  const { bin, json } = triangle();
  const view = Buffer.concat([bin, Buffer.alloc(viewBytes - bin.length)]);
  const shared = Array.from({ length: accessors }, () => ({
    bufferView: 0,
    componentType: 5126,
    type: 'SCALAR',
    count: viewBytes / 4,
  }));
  return glbOf(
    {
      ...json,
      buffers: [{ byteLength: viewBytes }],
      bufferViews: [{ buffer: 0, byteOffset: 0, byteLength: viewBytes }],
      accessors: [...(json.accessors as unknown[]), ...shared],
      nodes: [{ mesh: 0 }],
      scenes: [{ nodes: [0] }],
      scene: 0,
    },
    view,
  );
}

/** A binary PLY triangle whose first vertex lies at infinity. */
export function plyWithInfiniteVertex(): Buffer {
  const header = Buffer.from(
    [...trianglePlyHeader('binary_little_endian', 'uchar uint'), ''].join('\n'),
    'ascii',
  );
  const body = Buffer.alloc(36 + 1 + 12);
  [Infinity, 0, 0, 1, 0, 0, 0, 1, 0].forEach((value, index) => body.writeFloatLE(value, index * 4));
  body.writeUInt8(3, 36);
  [0, 1, 2].forEach((vertex, index) => body.writeUInt32LE(vertex, 37 + index * 4));
  return Buffer.concat([header, body]);
}

/** A valid ASCII PLY triangle whose comment mentions end_header. */
export function plyWithEndHeaderInComment(): Buffer {
  return Buffer.from(
    [
      ...trianglePlyHeader('ascii', 'uchar int', ['comment exported before end_header marker']),
      ...ASCII_TRIANGLE,
    ].join('\n'),
    'ascii',
  );
}
