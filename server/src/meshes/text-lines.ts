import { InvalidMeshError } from './mesh-stats.js';

const NEWLINE = 0x0a;

/**
 * The lines of a text file, decoded one at a time: a large file is never one string, nor split into an
 * array of them, so reading it needs no more heap than its longest line.
 */
export function* linesOf(bytes: Uint8Array, format: string): Generator<string> {
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (file.includes(0)) throw new InvalidMeshError(format, 'a text format holds binary data');
  let start = 0;
  while (start <= file.length) {
    const end = file.indexOf(NEWLINE, start);
    const stop = end === -1 ? file.length : end;
    yield file.toString('utf8', start, stop);
    if (end === -1) return;
    start = end + 1;
  }
}
