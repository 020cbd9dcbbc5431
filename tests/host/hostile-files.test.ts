import { describe, expect, it } from 'vitest';

import type { TJob } from '@gen3d/client';

import { signInNewAdmin } from '../support/accounts.js';
import { useFaultySuite } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import {
  glbWithBufferlessAccessor,
  glbWithHeavyJson,
  glbWithManyNodes,
  glbWithSharedBufferView,
  glbWithSharedNodes,
  glbWithSparseAccessor,
  plyWithEndHeaderInComment,
  plyWithHugeElement,
  plyWithHugeList,
  plyWithInfiniteVertex,
} from '../support/hostile-meshes.js';
import { callRest } from '../support/rest.js';
import { useTestServer } from '../support/server.js';

// Mesh workers get a small heap here so that a file heavy to parse meets the memory budget.
const suite = useFaultySuite({
  MODEL_SERVER_POLL_INTERVAL_MS: '20',
  JOB_POLL_INTERVAL_MS: '100',
  JOB_MAX_ATTEMPTS: '1',
  MESH_WORKER_MEMORY_MB: '64',
});

const upload = (format: 'glb' | 'ply', bytes: Buffer) =>
  callRest(
    suite.server.url,
    'POST',
    '/assets',
    { format, data: bytes.toString('base64'), userId: suite.user.id },
    suite.admin.token,
  );

async function healthy(url: string): Promise<number> {
  return (await fetch(`${url}/health`)).status;
}

/** Runs a job against the faulty model server and returns its final state. */
async function runJob(prompt: string): Promise<TJob> {
  const created = await callRest(suite.server.url, 'POST', '/jobs', { prompt }, suite.user.token);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return (await followJob(clientFor(suite.server, suite.user), String(created.body.id))).at(-1) as TJob;
}

describe('uploaded files that declare more than they hold', () => {
  const cases: Array<[string, 'glb' | 'ply', () => Buffer, RegExp]> = [
    [
      'a 300-byte PLY declaring an element of 2^53-1 rows without properties',
      'ply',
      () => plyWithHugeElement(),
      /element "junk" declares 9007199254740991 rows but no properties/,
    ],
    [
      'a PLY declaring 2^53-1 rows of one value',
      'ply',
      () => plyWithHugeElement('property uchar value'),
      /element "junk" declares 9007199254740991 rows, needing at least .* values where the body holds 13/,
    ],
    [
      'a binary PLY whose face lists four billion indices',
      'ply',
      plyWithHugeList,
      /declares a list of 4000000000 items that the file does not hold/,
    ],
    [
      'a GLB with a bufferless accessor of 10^9 vertices',
      'glb',
      () => glbWithBufferlessAccessor(1e9),
      /reading it would take 11445 MiB of accessor data and meshes baked per instance; the limit is 256 MiB/,
    ],
    [
      'a GLB with a sparse accessor of 5*10^7 vertices',
      'glb',
      () => glbWithSparseAccessor(5e7),
      /reading it would take 573 MiB of accessor data/,
    ],
    [
      'a GLB whose node graph reaches 2^40 instances of one mesh',
      'glb',
      () => glbWithSharedNodes(40),
      /its scenes reach more than 100000 node instances/,
    ],
    [
      'a 600 kB GLB whose 500 accessors share one buffer view',
      'glb',
      () => glbWithSharedBufferView(500, 600_000),
      /reading it would take 257 MiB of accessor data and meshes baked per instance; the limit is 256 MiB/,
    ],
    [
      'a binary PLY with a vertex at infinity',
      'ply',
      plyWithInfiniteVertex,
      /vertex 0 is not at a finite position/,
    ],
  ];

  it.each(cases)(
    'refuses %s with 400 naming the reason, and /health keeps answering',
    async (_name, format, file, reason) => {
      const [answer, health] = await Promise.all([upload(format, file()), healthy(suite.server.url)]);
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body).toMatchObject({ code: 'BAD_REQUEST', issues: [{ path: 'data' }] });
      expect(String(answer.body.error)).toMatch(reason);
      expect(health).toBe(200);
      expect(await healthy(suite.server.url)).toBe(200);
    },
  );
});

describe('files that only look odd', () => {
  it('accepts a PLY whose comment mentions end_header', async () => {
    const answer = await upload('ply', plyWithEndHeaderInComment());
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({ format: 'ply', vertices: 3, triangles: 1 });
  });
});

describe('model output that breaks a budget', () => {
  it('fails the attempt with OUTPUT_INVALID naming the reason, and the next job succeeds', async () => {
    suite.faulty.faults.glb = glbWithBufferlessAccessor(1e9);
    const failed = await runJob('a cube of a billion zeros');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_INVALID' } });
    // Users read a plain message; the reason is the log's.
    expect(failed.error?.message).not.toMatch(/MiB/);
    expect(await suite.failureDetail(failed.id)).toMatch(/reading it would take 11445 MiB of accessor data/);
    suite.faulty.faults = {};
    expect(await runJob('a plain cube')).toMatchObject({ status: 'succeeded' });
  });

  it.each([
    [
      // Parsed, it would take far more than the 64 MiB heap, in allocations too large to stop a worker cleanly.
      'a GLB whose JSON chunk is over a thirty-second of the worker heap',
      { glb: glbWithHeavyJson(8_000_000) },
      /its JSON chunk is \d+ bytes, over the 2097152 bytes a mesh worker reads/,
    ],
    [
      // Read as one string split into lines, it would need one array larger than the heap.
      'an OBJ of twelve million empty lines',
      { obj: Buffer.alloc(12_000_000, '\n') },
      /Invalid OBJ: it holds no triangles/,
    ],
  ])('refuses %s without parsing it whole, and the next job succeeds', async (_name, faults, reason) => {
    suite.faulty.faults = faults;
    const failed = await runJob('a cube with a heavy file');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_INVALID' } });
    expect(await suite.failureDetail(failed.id)).toMatch(reason);
    suite.faulty.faults = {};
    expect(await runJob('a plain cube')).toMatchObject({ status: 'succeeded' });
    expect(await healthy(suite.server.url)).toBe(200);
  });

  it('stops a worker thread that needs more memory than its budget, and a fresh thread serves the next job', async () => {
    // A 300 kB file: its 100,000 nodes become far more than 64 MiB of objects in the validator and reader.
    suite.faulty.faults.glb = glbWithManyNodes(100_000);
    const failed = await runJob('a cube with a crowd of empty nodes');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'OUTPUT_INVALID' } });
    expect(await suite.failureDetail(failed.id)).toMatch(/needs more than the 64 MiB a mesh worker may use/);
    suite.faulty.faults = {};
    expect(await runJob('a cube after the crash')).toMatchObject({ status: 'succeeded' });
    expect(await healthy(suite.server.url)).toBe(200);
  });
});

describe('the mesh task time limit', () => {
  const slow = useTestServer({ env: { MESH_TASK_TIMEOUT_MS: '1' } });

  it('refuses a file whose checking outlasts MESH_TASK_TIMEOUT_MS, naming the limit', async () => {
    const admin = await signInNewAdmin(slow.server);
    // A valid 400 kB GLB: reading and validating it takes far longer than 1 ms on any machine.
    const valid = glbWithHeavyJson(200_000);
    const answer = await callRest(
      slow.server.url,
      'POST',
      '/assets',
      { format: 'glb', data: valid.toString('base64') },
      admin.token,
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(String(answer.body.error)).toMatch(/reading it took longer than the 1 ms a mesh task may take/);
    expect(await healthy(slow.server.url)).toBe(200);
  });
});
