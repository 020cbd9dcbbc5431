const JSON_CHUNK = 0x4e4f534a;

/**
 * A GLB whose JSON chunk was changed by `mutate`: still readable by glTF loaders, but able to break the
 * glTF rules (what Khronos' validator is there to catch).
 */
export function tamperGlbJson(glb: Uint8Array, mutate: (json: Record<string, unknown>) => void): Uint8Array {
  const file = Buffer.from(glb);
  const jsonLength = file.readUInt32LE(12);
  if (file.readUInt32LE(16) !== JSON_CHUNK) throw new Error('the GLB does not start with a JSON chunk');
  const json = JSON.parse(file.subarray(20, 20 + jsonLength).toString('utf8')) as Record<string, unknown>;
  mutate(json);
  let text = Buffer.from(JSON.stringify(json), 'utf8');
  if (text.length % 4 !== 0) text = Buffer.concat([text, Buffer.alloc(4 - (text.length % 4), 0x20)]);
  const rest = file.subarray(20 + jsonLength);
  const header = Buffer.alloc(20);
  header.writeUInt32LE(file.readUInt32LE(0), 0);
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(20 + text.length + rest.length, 8);
  header.writeUInt32LE(text.length, 12);
  header.writeUInt32LE(JSON_CHUNK, 16);
  return new Uint8Array(Buffer.concat([header, text, rest]));
}

/** A GLB whose first accessor declares a maximum its data does not reach (ACCESSOR_MAX_MISMATCH). */
export function glbWithWrongBounds(glb: Uint8Array): Uint8Array {
  return tamperGlbJson(glb, (json) => {
    const accessors = json.accessors as Array<Record<string, unknown>>;
    const position = accessors.find((accessor) => Array.isArray(accessor.max)) as Record<string, unknown>;
    position.max = (position.max as number[]).map((value) => value + 1000);
  });
}
