import type { MeshFile } from './derive-formats.js';
import { modelFileName } from './model-file-names.js';

/** MTL statements naming a file (texture maps); only `map_Kd` has a file stored beside the MTL. */
const MTL_FILE_STATEMENTS = /^[ \t]*(map_\w+|bump|disp|decal|refl|norm)\b.*$/gim;
const OBJ_MTLLIB = /^[ \t]*mtllib\b.*$/gm;

/**
 * Text with every line matching `pattern` replaced by `replace(statement)` (lines answered with undefined
 * are removed); the same bytes when nothing changes. Read as latin1 so any other bytes pass through intact.
 */
function rewriteLines(
  bytes: Uint8Array,
  pattern: RegExp,
  replace: (statement: string) => string | undefined,
): Uint8Array {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let changed = false;
  const rewritten = text.replace(pattern, (line) => {
    const statement = line.trim().split(/\s+/)[0] ?? '';
    const next = replace(statement);
    if (next !== line) changed = true;
    return next ?? '# (reference to a file not kept)';
  });
  return changed ? Buffer.from(rewritten, 'latin1') : bytes;
}

/**
 * Points an OBJ at its MTL and the MTL at its texture by the names they are stored under (model-file-names),
 * whatever the model server called them: `mtllib` names the stored MTL, `map_Kd` the stored texture. A
 * reference to a file the output does not hold (no MTL, no texture, other texture maps) is commented out,
 * so no downloaded file names a file that is not there.
 */
export function linkObjFiles(files: MeshFile[]): MeshFile[] {
  const has = (format: MeshFile['format']): boolean => files.some((file) => file.format === format);
  return files.map((file) => {
    if (file.format === 'obj') {
      let first = true;
      const bytes = rewriteLines(file.bytes, OBJ_MTLLIB, () => {
        const keep = first && has('mtl');
        first = false;
        return keep ? `mtllib ${modelFileName('mtl')}` : undefined;
      });
      return { format: 'obj', bytes };
    }
    if (file.format === 'mtl') {
      const bytes = rewriteLines(file.bytes, MTL_FILE_STATEMENTS, (statement) =>
        statement.toLowerCase() === 'map_kd' && has('png') ? `map_Kd ${modelFileName('png')}` : undefined,
      );
      return { format: 'mtl', bytes };
    }
    return file;
  });
}

/** Whether an MTL file names a base-colour texture. */
export function mtlNamesTexture(bytes: Uint8Array): boolean {
  return /^[ \t]*map_Kd\b/im.test(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'),
  );
}
