import { createHash } from 'node:crypto';

/** A seeded pseudo-random source (mulberry32): the same seed gives the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed derived from text and a number, so different prompts with one seed still differ. */
export function seedOf(text: string, seed: number): number {
  return createHash('sha256').update(`${seed}:${text}`).digest().readUInt32LE(0);
}
