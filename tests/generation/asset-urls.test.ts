import { request } from 'node:http';

import { beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor } from '../support/generation.js';
import { useTestServer, type TestServer } from '../support/server.js';

type AssetList = Array<{ format: string; url: string }>;

/** GET /api/assets of the job, sent to the server's port with the given Host and extra headers. */
function assetsWithHeaders(
  server: TestServer,
  account: SignedIn,
  jobId: string,
  headers: Record<string, string>,
): Promise<AssetList> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        path: `/api/assets?jobId=${jobId}`,
        headers: { authorization: `Bearer ${account.token}`, ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode !== 200)
            reject(new Error(`${response.statusCode}: ${Buffer.concat(chunks).toString()}`));
          else resolve(JSON.parse(Buffer.concat(chunks).toString()) as AssetList);
        });
      },
    );
    call.on('error', reject);
    call.end();
  });
}

/** Runs a job to completion through the SDK at `baseUrl` and returns the GLB's URL from its result. */
async function generateAt(server: TestServer, account: SignedIn, baseUrl: string) {
  const client = clientFor({ ...server, url: baseUrl }, account);
  const result = await client.generate('a small cube');
  return { jobId: result.job.id, glbUrl: result.assets.find((asset) => asset.format === 'glb')?.url };
}

const urlsOf = (list: AssetList): string[] => list.map((asset) => asset.url);

describe('asset URLs name the origin the client used', () => {
  const suite = useTestServer();
  let user: SignedIn;
  beforeAll(async () => {
    user = await signInNewUser(suite.server, await signInNewAdmin(suite.server), 'visitor@example.com');
  });

  it.each(['127.0.0.1', 'localhost'])(
    'answers URLs at http://%s:PORT to a client there, and they download',
    async (host) => {
      const baseUrl = suite.server.url.replace('127.0.0.1', host);
      const { glbUrl } = await generateAt(suite.server, user, baseUrl);
      expect(glbUrl).toMatch(
        new RegExp(`^${baseUrl.replaceAll('.', '\\.')}/assets/[0-9a-f]{24}/model\\.glb\\?`),
      );
      const download = await fetch(String(glbUrl));
      expect(download.status).toBe(200);
      expect(
        Buffer.from(await download.arrayBuffer())
          .subarray(0, 4)
          .toString(),
      ).toBe('glTF');
    },
  );

  it('follows the Host header, ignores X-Forwarded-* from an untrusted peer, and falls back to PUBLIC_URL on a malformed host', async () => {
    const { jobId } = await generateAt(suite.server, user, suite.server.url);
    const { port } = new URL(suite.server.url);
    const lan = await assetsWithHeaders(suite.server, user, jobId, { host: '192.168.1.20:8080' });
    expect(urlsOf(lan)).not.toHaveLength(0);
    for (const url of urlsOf(lan)) expect(url).toMatch(/^http:\/\/192\.168\.1\.20:8080\/assets\//);

    const forged = await assetsWithHeaders(suite.server, user, jobId, {
      host: `127.0.0.1:${port}`,
      'x-forwarded-host': 'attacker.example',
      'x-forwarded-proto': 'https',
    });
    for (const url of urlsOf(forged)) expect(url.startsWith(`${suite.server.url}/assets/`)).toBe(true);

    const malformed = await assetsWithHeaders(suite.server, user, jobId, { host: 'under_score.example' });
    // The test server's PUBLIC_URL is http://127.0.0.1:PORT.
    for (const url of urlsOf(malformed)) expect(url.startsWith(`${suite.server.url}/assets/`)).toBe(true);
  });
});

describe('asset URLs behind a trusted proxy', () => {
  const suite = useTestServer({
    env: { TRUST_PROXY: 'loopback', PUBLIC_URL: 'https://api.example.com/gen3d' },
  });

  it("use PUBLIC_URL on its own host, and the forwarded scheme, host and PUBLIC_URL's path elsewhere", async () => {
    const user = await signInNewUser(suite.server, await signInNewAdmin(suite.server), 'owner@example.com');
    const { jobId } = await generateAt(suite.server, user, suite.server.url);
    const publicHost = await assetsWithHeaders(suite.server, user, jobId, {
      'x-forwarded-host': 'api.example.com',
      'x-forwarded-proto': 'http',
    });
    expect(urlsOf(publicHost)).not.toHaveLength(0);
    for (const url of urlsOf(publicHost))
      expect(url).toMatch(/^https:\/\/api\.example\.com\/gen3d\/assets\//);

    const other = await assetsWithHeaders(suite.server, user, jobId, {
      'x-forwarded-host': 'gen3d.lan:8443',
      'x-forwarded-proto': 'https',
    });
    for (const url of urlsOf(other)) expect(url).toMatch(/^https:\/\/gen3d\.lan:8443\/gen3d\/assets\//);
  });
});
