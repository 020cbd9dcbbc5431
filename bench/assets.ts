import { generateModelFiles } from '@gen3d/server';

import { formatThroughput, measureThroughput } from './measure.js';
import { reportRss, sampleRss, signInNewUser, startBenchServer } from './server-process.js';

const SECONDS = Number(process.env.BENCH_ASSETS_SECONDS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_ASSETS_CONCURRENCY ?? 8);
const FORMATS = (process.env.BENCH_ASSETS_FORMATS ?? 'glb,obj,ply').split(',');

/**
 * Asset registration (`POST /api/assets` by an admin, base64 data): every file is parsed and checked like
 * model output (GLB through Khronos' validator; OBJ, MTL, PLY by their readers), hashed and stored.
 * Registrations/s and latency per format, each into an account of its own that starts empty, with the server
 * in its own process.
 */
export async function benchmarkAssets(): Promise<void> {
  const bench = await startBenchServer('assets', { USER_MAX_ASSET_MB: '100000000' });
  try {
    const model = await generateModelFiles('a benchmarked fox', 3, 'standard');
    console.log(
      `\nasset registration (${CONCURRENCY} concurrent admin uploads, ${SECONDS} s per format; server and database in their own processes)`,
    );
    const rss = sampleRss(bench.server.child.pid);
    for (const [index, format] of (['glb', 'obj', 'ply'] as const).entries()) {
      const file = model.files.find((candidate) => candidate.name === `mesh.${format}`);
      if (!file || !FORMATS.includes(format)) continue;
      // Each format fills an account of its own, so the figures do not depend on the order they run in.
      const owner = await signInNewUser(bench.url, bench.adminToken, index);
      const ownerId = (
        (await (
          await fetch(`${bench.url}/api/auth/me`, { headers: { authorization: `Bearer ${owner}` } })
        ).json()) as { id: string }
      ).id;
      const body = JSON.stringify({
        format,
        data: Buffer.from(file.bytes).toString('base64'),
        userId: ownerId,
      });
      const result = await measureThroughput(CONCURRENCY, SECONDS * 1000, async () => {
        const response = await fetch(`${bench.url}/api/assets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bench.adminToken}` },
          body,
        });
        if (response.status !== 201)
          throw new Error(`POST /api/assets answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
      });
      console.log(
        formatThroughput(`register ${format} (${(file.bytes.byteLength / 1024).toFixed(0)} kB)`, result),
      );
    }
    reportRss(rss.stop());
  } finally {
    await bench.stop();
  }
}
