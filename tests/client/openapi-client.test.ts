import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import openapiTS, { astToString } from 'openapi-typescript';
import { beforeAll, describe, expect, it } from 'vitest';

import { repositoryRoot, runCommand } from '../support/process.js';
import { useTestServer } from '../support/server.js';
import { codeIn } from '../support/smtp.js';

// A client a third party generates from /openapi.json alone (openapi-typescript for the types,
// openapi-fetch for the calls), typechecked strictly against the document this server serves, and run.

const consumer = resolve(repositoryRoot, 'tests/client/openapi-consumer');
const suite = useTestServer({ mail: true, modelDurationMs: 200 });

let typecheck: { ok: true } | { ok: false; output: string } = { ok: true };

beforeAll(async () => {
  const document = await (await fetch(`${suite.server.url}/openapi.json`)).text();
  const types = astToString(await openapiTS(document));
  await mkdir(join(consumer, 'generated'), { recursive: true });
  await writeFile(join(consumer, 'generated', 'api.d.ts'), types);
  const tsc = join(repositoryRoot, 'node_modules', '.bin', 'tsc');
  typecheck = await runCommand(tsc, ['-p', join(consumer, 'tsconfig.json')], { cwd: consumer }).then(
    () => ({ ok: true as const }),
    (error: Error) => ({ ok: false as const, output: error.message }),
  );
});

describe('a client generated from /openapi.json with openapi-typescript and openapi-fetch', () => {
  it('typechecks strictly against the generated types', () => {
    expect(typecheck).toEqual({ ok: true });
  });

  it('registers, verifies, logs in, creates an API key, queues a job with it, follows it and downloads the GLB', async () => {
    // Loaded by path, so the repository's own typecheck never needs the generated types.
    const { runThirdPartyFlow } = (await import(join(consumer, 'third-party-flow.ts'))) as {
      runThirdPartyFlow: (options: {
        baseUrl: string;
        email: string;
        password: string;
        verificationCode: () => Promise<string>;
      }) => Promise<{
        keyScopes: string[];
        passwordChangeWithKey: number;
        job: { status: string; id: string };
        glb: Uint8Array;
      }>;
    };
    const result = await runThirdPartyFlow({
      baseUrl: `${suite.server.url}/api`,
      email: 'integrator@example.com',
      password: 'an integrator password 1',
      verificationCode: async () =>
        codeIn(await suite.smtp.waitForMail('integrator@example.com', /verification code/)),
    });
    expect(result.job).toMatchObject({ status: 'succeeded', id: expect.stringMatching(/^[0-9a-f]{24}$/) });
    expect(result.keyScopes.sort()).toEqual(['jobs:read', 'jobs:write']);
    expect(result.passwordChangeWithKey).toBe(403);
    expect(Buffer.from(result.glb.subarray(0, 4)).toString()).toBe('glTF');
  });
});
