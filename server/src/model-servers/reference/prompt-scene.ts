import type { QualityPresets } from '@gen3d/shared';

import { PrimitiveKinds, type Detail, type PrimitiveKind } from './primitives.js';
import { seededRandom, seedOf } from './random.js';

export type Rgb = [number, number, number];

/** One placed primitive: what it is, its colour, where its centre is and how it is scaled. */
export interface SceneShape {
  kind: PrimitiveKind;
  colorName: string;
  color: Rgb;
  position: [number, number, number];
  scale: [number, number, number];
  /** Turn around the vertical axis, in radians. */
  turn: number;
}

export interface Scene {
  shapes: SceneShape[];
  detail: Detail;
  /** How the prompt was read, in plain words (the reference generator says what it did). */
  interpretation: string;
}

export type QualityPreset = (typeof QualityPresets)[number];

const SHAPE_WORDS: Record<string, PrimitiveKind> = {
  cube: 'cube',
  cubes: 'cube',
  box: 'cube',
  boxes: 'cube',
  block: 'cube',
  blocks: 'cube',
  crate: 'cube',
  crates: 'cube',
  dice: 'cube',
  die: 'cube',
  sphere: 'sphere',
  spheres: 'sphere',
  ball: 'sphere',
  balls: 'sphere',
  orb: 'sphere',
  orbs: 'sphere',
  globe: 'sphere',
  planet: 'sphere',
  planets: 'sphere',
  cylinder: 'cylinder',
  cylinders: 'cylinder',
  can: 'cylinder',
  cans: 'cylinder',
  pillar: 'cylinder',
  pillars: 'cylinder',
  column: 'cylinder',
  columns: 'cylinder',
  barrel: 'cylinder',
  barrels: 'cylinder',
  tube: 'cylinder',
  cone: 'cone',
  cones: 'cone',
  spike: 'cone',
  spikes: 'cone',
  horn: 'cone',
  torus: 'torus',
  tori: 'torus',
  ring: 'torus',
  rings: 'torus',
  donut: 'torus',
  donuts: 'torus',
  doughnut: 'torus',
  doughnuts: 'torus',
  tire: 'torus',
  tyre: 'torus',
  pyramid: 'pyramid',
  pyramids: 'pyramid',
  tetrahedron: 'pyramid',
};

const COLORS: Record<string, Rgb> = {
  red: [0.8, 0.1, 0.1],
  green: [0.1, 0.6, 0.2],
  blue: [0.1, 0.25, 0.8],
  yellow: [0.95, 0.85, 0.1],
  orange: [0.95, 0.5, 0.1],
  purple: [0.5, 0.2, 0.7],
  violet: [0.55, 0.3, 0.85],
  pink: [0.95, 0.5, 0.7],
  white: [0.95, 0.95, 0.95],
  black: [0.05, 0.05, 0.05],
  gray: [0.5, 0.5, 0.5],
  grey: [0.5, 0.5, 0.5],
  brown: [0.45, 0.28, 0.12],
  cyan: [0.1, 0.8, 0.85],
  magenta: [0.85, 0.1, 0.7],
  teal: [0.1, 0.5, 0.5],
  gold: [0.85, 0.68, 0.2],
  golden: [0.85, 0.68, 0.2],
  silver: [0.75, 0.75, 0.78],
};

const COUNTS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  single: 1,
  two: 2,
  pair: 2,
  couple: 2,
  three: 3,
  few: 3,
  four: 4,
  five: 5,
  six: 6,
  many: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
};

const SIZES: Record<string, [number, number, number]> = {
  tiny: [0.4, 0.4, 0.4],
  small: [0.65, 0.65, 0.65],
  little: [0.65, 0.65, 0.65],
  big: [1.5, 1.5, 1.5],
  large: [1.5, 1.5, 1.5],
  huge: [2, 2, 2],
  giant: [2, 2, 2],
  tall: [1, 2, 1],
  flat: [1.3, 0.3, 1.3],
  wide: [1.8, 1, 1.8],
  long: [2, 1, 1],
  thin: [0.5, 1, 0.5],
};

const ON_WORDS = new Set(['on', 'atop', 'above', 'over', 'upon']);
const UNDER_WORDS = new Set(['under', 'below', 'beneath', 'underneath', 'supporting']);
const BESIDE_WORDS = new Set(['and', 'beside', 'next', 'with', 'plus', 'near', 'by']);
const MAX_COPIES = 12;

type Relation = 'on' | 'under' | 'beside';

interface Group {
  kind: PrimitiveKind;
  count: number;
  colorName: string | undefined;
  scale: [number, number, number];
}

function detailFor(words: string[], quality: QualityPreset): Detail {
  if (words.some((word) => word === 'low-poly' || word === 'lowpoly' || word === 'blocky')) return 8;
  if (words.some((word) => word === 'smooth' || word === 'detailed' || word === 'high-poly')) return 48;
  return quality === 'draft' ? 8 : quality === 'high' ? 32 : 16;
}

/** Reads shape groups and the relations between consecutive groups from the prompt's words. */
function readGroups(words: string[]): { groups: Group[]; relations: Relation[] } {
  const groups: Group[] = [];
  const relations: Relation[] = [];
  let count: number | undefined;
  let colorName: string | undefined;
  let scale: [number, number, number] = [1, 1, 1];
  let pending: Relation = 'beside';
  for (const word of words) {
    const kind = SHAPE_WORDS[word];
    if (kind) {
      if (groups.length > 0) relations.push(pending);
      groups.push({ kind, count: Math.max(1, Math.min(count ?? 1, MAX_COPIES)), colorName, scale });
      [count, colorName, scale, pending] = [undefined, undefined, [1, 1, 1], 'beside'];
      continue;
    }
    if (/^\d+$/.test(word)) count = Number(word);
    else if (word in COUNTS && count === undefined) count = COUNTS[word];
    else if (word in COLORS) colorName = word;
    else if (word in SIZES) scale = SIZES[word] as [number, number, number];
    else if (ON_WORDS.has(word)) pending = 'on';
    else if (UNDER_WORDS.has(word)) pending = 'under';
    else if (BESIDE_WORDS.has(word) && pending === 'beside') pending = 'beside';
  }
  return { groups, relations };
}

/** Groups without shape words: a small deterministic composition from the prompt's hash. */
function inventGroups(random: () => number, colorName: string | undefined): Group[] {
  const size = 2 + Math.floor(random() * 3);
  return Array.from({ length: size }, (_, index) => ({
    kind: PrimitiveKinds[Math.floor(random() * PrimitiveKinds.length)] as PrimitiveKind,
    count: 1,
    colorName: index === 0 ? colorName : undefined,
    scale: [0.6 + random() * 0.8, 0.6 + random() * 0.8, 0.6 + random() * 0.8] as [number, number, number],
  }));
}

/** Columns of stacked groups, bottom first: "A on B" puts A above B, "A under B" puts B above A. */
function stackColumns(groups: Group[], relations: Relation[]): Group[][] {
  const columns: Group[][] = [];
  groups.forEach((group, index) => {
    const relation = index === 0 ? 'beside' : relations[index - 1];
    const column = columns.at(-1);
    if (relation === 'on' && column) column.unshift(group);
    else if (relation === 'under' && column) column.push(group);
    else columns.push([group]);
  });
  return columns;
}

/**
 * Turns a prompt into a scene of coloured primitives, the same for the same prompt, seed and quality.
 * Shape, colour, count and size words are honoured; "on", "under" and "and" compose them.
 */
export function sceneOfPrompt(prompt: string, seed: number, quality: QualityPreset): Scene {
  const words = prompt
    .toLowerCase()
    .split(/[^a-z0-9-]+/)
    .filter(Boolean);
  const random = seededRandom(seedOf(prompt, seed));
  const read = readGroups(words);
  const invented = read.groups.length === 0;
  const firstColor = words.find((word) => word in COLORS);
  const groups = invented ? inventGroups(random, firstColor) : read.groups;
  const columns = stackColumns(groups, invented ? groups.slice(1).map(() => 'on' as const) : read.relations);
  const palette = Object.keys(COLORS);
  const shapes: SceneShape[] = [];
  let x = 0;
  for (const column of columns) {
    const width = Math.max(...column.map((group) => group.scale[0] * group.count + 0.25 * (group.count - 1)));
    let y = 0;
    for (const group of column) {
      const colorName = group.colorName ?? (palette[Math.floor(random() * palette.length)] as string);
      const [sx, sy, sz] = group.scale;
      for (let copy = 0; copy < group.count; copy += 1) {
        const offset = (copy - (group.count - 1) / 2) * (sx + 0.25);
        shapes.push({
          kind: group.kind,
          colorName,
          color: COLORS[colorName] as Rgb,
          position: [x + width / 2 + offset, y + sy / 2, 0],
          scale: [sx, sy, sz],
          turn: random() * Math.PI * 2,
        });
      }
      y += sy;
    }
    x += width + 0.5;
  }
  // Centre the composition on the origin, standing on the ground plane.
  for (const shape of shapes) shape.position[0] -= (x - 0.5) / 2;
  const described = shapes.map((shape) => `${shape.colorName} ${shape.kind}`).join(', ');
  const interpretation = invented
    ? `No shape words found; composed ${shapes.length} primitives from the prompt: ${described}`
    : `Read as: ${described}`;
  return { shapes, detail: detailFor(words, quality), interpretation };
}
