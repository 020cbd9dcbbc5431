// `pnpm fuzz [--requests N] [--seed S] [--frames F]`: the fuzz suites with more requests than CI sends.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '50000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    frames: { type: 'string', default: '50000' },
  },
});
const requests = Number(values.requests);
if (
  !Number.isInteger(requests) ||
  requests < 1 ||
  !Number.isInteger(Number(values.seed)) ||
  !Number.isInteger(Number(values.frames))
) {
  console.error('usage: pnpm fuzz [--requests N] [--seed S] [--frames F]  (whole numbers)');
  process.exit(2);
}
console.log(
  `fuzzing with ${requests} REST requests, ${Math.ceil(requests / 5)} tRPC calls and ${values.frames} database frames, seed ${values.seed}`,
);
const child = spawn('npx', ['vitest', 'run', 'tests/fuzz', 'embedded-mongo/tests/wire-fuzz.test.ts'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    FUZZ_REQUESTS: String(requests),
    FUZZ_TRPC_REQUESTS: String(Math.ceil(requests / 5)),
    FUZZ_SEED: values.seed,
    WIRE_FUZZ_FRAMES: values.frames,
    WIRE_FUZZ_SEED: values.seed,
  },
});
child.on('exit', (code) => process.exit(code ?? 1));
