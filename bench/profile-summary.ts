import { readFileSync } from 'node:fs';

/**
 * `pnpm exec tsx bench/profile-summary.ts <file.cpuprofile> [rows]`: where a CPU profile's time went, by
 * package or source file (self time), by function (self time), and per function of the server's own code
 * (inclusive: every sample with that function on its stack; async callers are not on the stack).
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArgument] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [rows]');
  process.exit(2);
}
const rows = Number(rowsArgument ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

const PACKAGE = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((@[^/]+\/)?[^/]+)/;
const shortUrl = (url: string): string =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, 'npm:')
    .replace(/.*\/(server|shared|embedded-mongo)\/(src|dist)\//, '$1/$2/');
const functionOf = ({ callFrame }: ProfileNode): string =>
  `${callFrame.functionName || '(anonymous)'} ${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}`;
const groupOf = ({ callFrame }: ProfileNode): string => {
  if (!callFrame.url) return callFrame.functionName.startsWith('(') ? callFrame.functionName : '(native)';
  const found = PACKAGE.exec(callFrame.url);
  return found ? `npm:${found[1]}` : shortUrl(callFrame.url);
};
const ours = ({ callFrame }: ProfileNode): boolean => /\/(server|shared)\/(src|dist)\//.test(callFrame.url);

const microseconds = new Map<number, number>();
profile.samples.forEach((id, index) =>
  microseconds.set(id, (microseconds.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
);
const byGroup = new Map<string, number>();
const byFunction = new Map<string, number>();
const inclusive = new Map<string, number>();
const add = (map: Map<string, number>, key: string, value: number): void => {
  map.set(key, (map.get(key) ?? 0) + value);
};
let total = 0;
let idle = 0;
for (const [id, time] of microseconds) {
  const node = nodes.get(id) as ProfileNode;
  total += time;
  if (node.callFrame.functionName === '(idle)') idle += time;
  add(byGroup, groupOf(node), time);
  add(byFunction, functionOf(node), time);
  const counted = new Set<string>();
  for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
    const frame = nodes.get(current) as ProfileNode;
    if (!ours(frame)) continue;
    const name = functionOf(frame);
    if (counted.has(name)) continue;
    counted.add(name);
    add(inclusive, name, time);
  }
}

function print(title: string, map: Map<string, number>): void {
  console.log(`\n${title}`);
  for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows))
    console.log(
      `${((100 * time) / total).toFixed(1).padStart(5)}%  ${(time / 1000).toFixed(0).padStart(7)} ms  ${key}`,
    );
}

console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled, ${(idle / 1000).toFixed(0)} ms idle`);
print('self time by package or file', byGroup);
print('self time by function', byFunction);
print("inclusive time of the server's own functions", inclusive);
