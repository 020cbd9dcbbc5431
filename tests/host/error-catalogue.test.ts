import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { createGen3dClient, isGen3dError, type Gen3dClient } from '@gen3d/client';
import { createAssetUrlSigner } from '@gen3d/server';
import { ErrorCatalogue, ErrorCodes, type TAsset, type TErrorCode } from '@gen3d/shared';

import { signInNewUser, STRONG_PASSWORD, type SignedIn } from '../support/accounts.js';
import { useFaultySuite } from '../support/faulty-model-server.js';
import { clientFor, followJob } from '../support/generation.js';
import { glbWithPlacedTriangle } from '../support/hostile-meshes.js';
import { gifImage, pngBomb, webpImage } from '../support/images.js';
import { callRest } from '../support/rest.js';

const suite = useFaultySuite({
  BODY_LIMIT_BYTES: '8192',
  AUTH_RATE_LIMIT_MAX: '3',
  AUTH_RATE_LIMIT_IP_MAX: '1000',
  LOCKOUT_THRESHOLD: '2',
  USER_MAX_CHATS: '2',
  TRPC_MAX_BATCH_SIZE: '3',
  STREAMS_MAX_PER_USER: '1',
  GENERATE_TIMEOUT_MS: '4000',
  JOB_MAX_ATTEMPTS: '1',
  WEBHOOK_ALLOWED_HOSTS: 'localhost',
  IMAGE_MAX_BYTES: '2000',
  IMAGE_MAX_DIMENSION: '4096',
  // A text-only model server to send image jobs to (never called: they are refused at creation).
  SHAP_E_URL: 'http://127.0.0.1:9',
  // The finished teapot is over it; a one-triangle asset is under it.
  POSTPROCESS_MAX_TRIANGLES: '10',
});

/** What one failing call answered: the response's status, and the code and status its body names. */
interface Answer {
  status: number;
  code: unknown;
  statusInBody: unknown;
}

type Provoke = () => Promise<Answer>;
/** A call that fails with the code, or why no call over that transport can. */
type Provocation = Provoke | { unprovokable: string };

const NOT_A_PROCEDURE = 'the answer comes from a plain HTTP route (asset downloads), not from a procedure';
const MISSING_ID = 'ffffffffffffffffffffffff';

/** Reads either error body the server answers: REST's `{code, statusCode}` or tRPC's `{error: {data}}` (alone or batched). */
async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  const body = JSON.parse(text) as unknown;
  const first = (Array.isArray(body) ? body[0] : body) as Record<string, unknown>;
  if (first.error !== null && typeof first.error === 'object') {
    const data = (first.error as { data: { code: unknown; httpStatus: unknown } }).data;
    return { status: response.status, code: data.code, statusInBody: data.httpStatus };
  }
  return { status: response.status, code: first.code, statusInBody: first.statusCode };
}

const url = (path: string): string => `${suite.server.url}${path}`;
const bearer = (account: SignedIn): Record<string, string> => ({ authorization: `Bearer ${account.token}` });

async function rest(method: string, path: string, body?: unknown, account?: SignedIn): Promise<Answer> {
  const headers: Record<string, string> = account ? bearer(account) : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  return answerOf(
    await fetch(url(`/api${path}`), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
}

/** A call through the SDK; the answer's status is the HTTP status of the response the SDK read. */
async function viaSdk(call: (client: Gen3dClient) => Promise<unknown>, account?: SignedIn): Promise<Answer> {
  const statuses: number[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    statuses.push(response.status);
    return response;
  };
  const client = createGen3dClient({
    url: suite.server.url,
    fetch: recordingFetch,
    headers: () => (account ? bearer(account) : {}),
  });
  const error = await call(client).then(
    () => new Error('the call succeeded'),
    (failure: unknown) => failure,
  );
  if (!isGen3dError(error)) throw error;
  return { status: statuses.at(-1) ?? 0, code: error.code, statusInBody: error.status };
}

/** Over node:http, since fetch refuses to send a header block this large itself. */
function withHugeHeader(path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(suite.server.url);
    const headers = { 'x-filler': 'h'.repeat(17_000) };
    const sent = httpRequest({ host: '127.0.0.1', port, path, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        resolve({ status: response.statusCode ?? 0, code: body.code, statusInBody: body.statusCode });
      });
    });
    sent.on('error', reject);
    sent.end();
  });
}

/** Repeats a call until it answers something else than `passing` (at most `tries` times). */
async function until(passing: string, tries: number, call: Provoke): Promise<Answer> {
  let answer = await call();
  for (let tried = 1; tried < tries && answer.code === passing; tried += 1) answer = await call();
  return answer;
}

const accounts = new Map<string, Promise<SignedIn>>();
/** A signed-in user of its own for one provocation, so quotas and running jobs do not leak between them. */
function account(name: string): Promise<SignedIn> {
  let signedIn = accounts.get(name);
  if (!signedIn) {
    signedIn = signInNewUser(suite.server, suite.admin, `${name}@example.com`);
    accounts.set(name, signedIn);
  }
  return signedIn;
}

let readOnlyKey: Promise<SignedIn> | undefined;
/** A user calling with an API key that grants `jobs:read` only, in place of an access token. */
function readOnlyKeyHolder(): Promise<SignedIn> {
  readOnlyKey ??= (async () => {
    const owner = await account('key-holder');
    const created = await callRest(
      suite.server.url,
      'POST',
      '/keys',
      { name: 'read only', scopes: ['jobs:read'] },
      owner.token,
    );
    if (created.status !== 201) throw new Error(`no key: ${JSON.stringify(created.body)}`);
    return { ...owner, token: String(created.body.key) };
  })();
  return readOnlyKey;
}

/** Base64 of an image upload answering `code`, in a body within the suite's 8 KiB limit. */
async function imageFor(code: TErrorCode): Promise<string> {
  const bytes =
    code === 'NOT_AN_IMAGE'
      ? Buffer.from('plain words')
      : code === 'IMAGE_FORMAT_UNSUPPORTED'
        ? await gifImage()
        : code === 'IMAGE_TOO_LARGE'
          ? await sharp(randomBytes(32 * 32 * 3), { raw: { width: 32, height: 32, channels: 3 } })
              .png()
              .toBuffer()
          : code === 'IMAGE_TOO_MANY_PIXELS'
            ? pngBomb(100_000, 100_000)
            : code === 'IMAGE_CORRUPT'
              ? Buffer.from('89504e470d0a1a0a', 'hex')
              : await webpImage(8, 8);
  return bytes.toString('base64');
}

let uploaded: Promise<TAsset> | undefined;
/** An input image of the user 'imager'. */
function uploadedImage(): Promise<TAsset> {
  uploaded ??= (async () => {
    const answer = await rest(
      'POST',
      '/assets/images',
      { data: await imageFor('INTERNAL') },
      await account('imager'),
    );
    if (answer.status !== 201) throw new Error(`the upload was refused: ${JSON.stringify(answer)}`);
    const listed = await callRest(
      suite.server.url,
      'GET',
      '/assets',
      undefined,
      (await account('imager')).token,
    );
    return (listed.body as unknown as TAsset[])[0] as TAsset;
  })();
  return uploaded;
}

const imageRefusal = (code: TErrorCode): { rest: Provocation; trpc: Provocation } => ({
  rest: async () => rest('POST', '/assets/images', { data: await imageFor(code) }, suite.user),
  trpc: async () =>
    viaSdk(async (client) => client.assets.uploadImage.mutate({ data: await imageFor(code) }), suite.user),
});

let finished: Promise<{ jobId: string; asset: TAsset }> | undefined;
/** A job that succeeded, and its GLB file. */
function finishedJob(): Promise<{ jobId: string; asset: TAsset }> {
  finished ??= (async () => {
    const owner = await account('finisher');
    const client = clientFor(suite.server, owner);
    const created = await client.generation.create.mutate({ prompt: 'a finished teapot' });
    await followJob(client, created.id);
    const assets = await callRest(
      suite.server.url,
      'GET',
      `/assets?jobId=${created.id}`,
      undefined,
      owner.token,
    );
    const asset = (assets.body as unknown as TAsset[]).find((candidate) => candidate.format === 'glb');
    if (!asset) throw new Error(`the job left no GLB: ${JSON.stringify(assets.body)}`);
    return { jobId: created.id, asset };
  })();
  return finished;
}

/** The finished job's material library (an asset that cannot be post-processed). */
async function finishedMaterial(): Promise<{ owner: SignedIn; id: string }> {
  const { jobId } = await finishedJob();
  const owner = await account('finisher');
  const assets = await callRest(suite.server.url, 'GET', `/assets?jobId=${jobId}`, undefined, owner.token);
  const mtl = (assets.body as unknown as TAsset[]).find((candidate) => candidate.format === 'mtl');
  if (!mtl) throw new Error(`the job left no MTL: ${JSON.stringify(assets.body)}`);
  return { owner, id: mtl.id };
}

let triangle: Promise<{ owner: SignedIn; id: string }> | undefined;
/** A one-triangle GLB registered for a user of its own: no simplification target is below its count. */
function oneTriangleAsset(): Promise<{ owner: SignedIn; id: string }> {
  triangle ??= (async () => {
    const owner = await account('triangle-keeper');
    const glb = glbWithPlacedTriangle({});
    const created = await callRest(
      suite.server.url,
      'POST',
      '/assets',
      { format: 'glb', data: glb.toString('base64'), userId: owner.id },
      suite.admin.token,
    );
    if (created.status !== 201) throw new Error(`not registered: ${JSON.stringify(created.body)}`);
    return { owner, id: String(created.body.id) };
  })();
  return triangle;
}

const PROVOCATIONS: Record<TErrorCode, { rest: Provocation; trpc: Provocation }> = {
  VALIDATION_FAILED: {
    rest: async () => rest('GET', '/jobs/not-an-id', undefined, suite.user),
    trpc: async () => viaSdk((client) => client.jobs.get.query({ id: 'not-an-id' }), suite.user),
  },
  BAD_REQUEST: {
    rest: async () => answerOf(await fetch(url('/api/system/info?x=%E0%A4%A'))),
    trpc: async () => answerOf(await fetch(url('/trpc/system.info?x=%E0%A4%A'))),
  },
  MALFORMED_BODY: {
    rest: async () =>
      answerOf(
        await fetch(url('/api/auth/login'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"email": ',
        }),
      ),
    trpc: async () =>
      answerOf(
        await fetch(url('/trpc/auth.login'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"email": ',
        }),
      ),
  },
  UNSUPPORTED_MEDIA_TYPE: {
    rest: async () =>
      answerOf(
        await fetch(url('/api/auth/login'), {
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body: 'email,password',
        }),
      ),
    trpc: async () =>
      answerOf(
        await fetch(url('/trpc/auth.login'), {
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body: 'email,password',
        }),
      ),
  },
  PAYLOAD_TOO_LARGE: {
    rest: async () => rest('POST', '/auth/login', { email: 'big@example.com', password: 'p'.repeat(20_000) }),
    trpc: async () =>
      answerOf(
        await fetch(url('/trpc/auth.login'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'big@example.com', password: 'p'.repeat(20_000) }),
        }),
      ),
  },
  HEADERS_TOO_LARGE: {
    rest: async () => withHugeHeader('/api/system/info'),
    trpc: async () => withHugeHeader('/trpc/system.info'),
  },
  UNAUTHORIZED: {
    rest: async () => rest('GET', '/auth/me'),
    trpc: async () => viaSdk((client) => client.auth.me.query()),
  },
  INVALID_CREDENTIALS: {
    rest: async () => rest('POST', '/auth/login', { email: 'nobody-rest@example.com', password: 'wrong' }),
    trpc: async () => viaSdk((client) => client.login('nobody-trpc@example.com', 'wrong')),
  },
  INVALID_TOKEN: {
    rest: async () => rest('POST', '/auth/refresh', { refreshToken: 'not-a-refresh-token' }),
    trpc: async () => viaSdk((client) => client.auth.refresh.mutate({ refreshToken: 'not-a-refresh-token' })),
  },
  WEAK_PASSWORD: {
    rest: async () =>
      rest('POST', '/auth/register', {
        email: 'weak-rest@example.com',
        userName: 'Weak',
        password: 'password123',
      }),
    trpc: async () =>
      viaSdk((client) =>
        client.auth.register.mutate({
          email: 'weak-trpc@example.com',
          userName: 'Weak',
          password: 'password123',
        }),
      ),
  },
  INVALID_CODE: {
    rest: async () => rest('POST', '/auth/register/verify', { email: 'unknown@example.com', code: '123456' }),
    trpc: async () =>
      viaSdk((client) =>
        client.auth.verifyRegistration.mutate({ email: 'unknown@example.com', code: '123456' }),
      ),
  },
  CONFIRMATION_MISMATCH: {
    rest: async () =>
      rest(
        'DELETE',
        `/admin/users/${suite.user.id}?confirmEmail=someone-else@example.com`,
        undefined,
        suite.admin,
      ),
    trpc: async () =>
      viaSdk(
        (client) =>
          client.admin.users.delete.mutate({ id: suite.user.id, confirmEmail: 'someone-else@example.com' }),
        suite.admin,
      ),
  },
  JOB_FINISHED: {
    rest: async () =>
      rest('POST', `/jobs/${(await finishedJob()).jobId}/cancel`, {}, await account('finisher')),
    trpc: async () => {
      const { jobId } = await finishedJob();
      return viaSdk((client) => client.jobs.cancel.mutate({ id: jobId }), await account('finisher'));
    },
  },
  NOT_AN_IMAGE: imageRefusal('NOT_AN_IMAGE'),
  IMAGE_FORMAT_UNSUPPORTED: imageRefusal('IMAGE_FORMAT_UNSUPPORTED'),
  IMAGE_TOO_LARGE: imageRefusal('IMAGE_TOO_LARGE'),
  IMAGE_TOO_MANY_PIXELS: imageRefusal('IMAGE_TOO_MANY_PIXELS'),
  IMAGE_CORRUPT: imageRefusal('IMAGE_CORRUPT'),
  NOT_AN_IMAGE_ASSET: {
    rest: async () =>
      rest('POST', '/jobs', { imageAssetId: (await finishedJob()).asset.id }, await account('finisher')),
    trpc: async () => {
      const { asset } = await finishedJob();
      return viaSdk(
        (client) => client.generation.create.mutate({ imageAssetId: asset.id }),
        await account('finisher'),
      );
    },
  },
  ASSET_NOT_POSTPROCESSABLE: {
    rest: async () => {
      const { owner, id } = await finishedMaterial();
      return rest('POST', `/assets/${id}/postprocess`, { kind: 'weld' }, owner);
    },
    trpc: async () => {
      const { owner, id } = await finishedMaterial();
      return viaSdk((client) => client.postprocessing.create.mutate({ id, kind: 'weld' }), owner);
    },
  },
  POSTPROCESS_TARGET_TOO_HIGH: {
    rest: async () => {
      const { owner, id } = await oneTriangleAsset();
      return rest('POST', `/assets/${id}/postprocess`, { kind: 'simplify', targetTriangles: 4 }, owner);
    },
    trpc: async () => {
      const { owner, id } = await oneTriangleAsset();
      return viaSdk(
        (client) => client.postprocessing.create.mutate({ id, kind: 'simplify', targetTriangles: 4 }),
        owner,
      );
    },
  },
  POSTPROCESS_SOURCE_TOO_LARGE: {
    rest: async () => {
      const { asset } = await finishedJob();
      return rest('POST', `/assets/${asset.id}/postprocess`, { kind: 'weld' }, await account('finisher'));
    },
    trpc: async () => {
      const { asset } = await finishedJob();
      return viaSdk(
        (client) => client.postprocessing.create.mutate({ id: asset.id, kind: 'weld' }),
        await account('finisher'),
      );
    },
  },
  MODEL_SERVER_TAKES_NO_IMAGES: {
    rest: async () =>
      rest(
        'POST',
        '/jobs',
        { imageAssetId: (await uploadedImage()).id, params: { modelServer: 'shap-e' } },
        await account('imager'),
      ),
    trpc: async () => {
      const image = await uploadedImage();
      return viaSdk(
        (client) =>
          client.generation.create.mutate({ imageAssetId: image.id, params: { modelServer: 'shap-e' } }),
        await account('imager'),
      );
    },
  },
  ASSET_URL_INVALID: {
    rest: async () => {
      const signed = new URL((await finishedJob()).asset.url);
      signed.searchParams.set('sig', 'forged');
      return answerOf(await fetch(signed));
    },
    trpc: { unprovokable: NOT_A_PROCEDURE },
  },
  ASSET_URL_EXPIRED: {
    rest: async () => {
      const { asset } = await finishedJob();
      const { jwtSecret, publicUrl } = suite.server.config;
      const expired = createAssetUrlSigner(jwtSecret, publicUrl, -120).sign(asset.id, asset.fileName);
      return answerOf(await fetch(expired.url));
    },
    trpc: { unprovokable: NOT_A_PROCEDURE },
  },
  RANGE_NOT_SATISFIABLE: {
    rest: async () => {
      const { asset } = await finishedJob();
      return answerOf(await fetch(asset.url, { headers: { range: 'bytes=999999999-' } }));
    },
    trpc: { unprovokable: NOT_A_PROCEDURE },
  },
  WEBHOOK_URL_REFUSED: {
    // No WEBHOOK_ALLOWED_HOSTS here: a loopback endpoint is refused.
    rest: async () =>
      rest(
        'POST',
        '/webhooks',
        { url: 'http://127.0.0.1:9/hook', events: ['job.succeeded'] },
        await account('hooker'),
      ),
    trpc: async () =>
      viaSdk(
        (client) => client.webhooks.create.mutate({ url: 'http://10.1.2.3/hook', events: ['job.failed'] }),
        await account('hooker'),
      ),
  },
  WEBHOOK_ENDPOINT_DISABLED: {
    rest: async () => {
      const { endpointId, owner } = await disabledEndpoint();
      return rest('POST', `/webhooks/${endpointId}/deliveries/msg_${'0'.repeat(32)}/redeliver`, {}, owner);
    },
    trpc: async () => {
      const { endpointId, owner } = await disabledEndpoint();
      return viaSdk(
        (client) => client.webhooks.redeliver.mutate({ id: endpointId, deliveryId: `msg_${'0'.repeat(32)}` }),
        owner,
      );
    },
  },
  QUOTA_EXCEEDED: {
    // USER_MAX_CHATS is 2: the third chat over REST is refused, and so is the next one over tRPC.
    rest: async () => {
      const owner = await account('hoarder');
      for (let chat = 1; chat <= 3; chat += 1) {
        const answer = await rest('POST', '/chats', { title: `chat ${chat}` }, owner);
        if (answer.status >= 400) return answer;
      }
      throw new Error('three chats were accepted');
    },
    trpc: async () =>
      viaSdk((client) => client.chats.create.mutate({ title: 'one more' }), await account('hoarder')),
  },
  GENERATION_FAILED: {
    rest: async () => {
      suite.faulty.faults.failSubmits = 10;
      return rest('POST', '/generate', { prompt: 'a failing teapot' }, await account('failing'));
    },
    trpc: async () => {
      suite.faulty.faults.failSubmits = 10;
      return viaSdk(
        (client) => client.generation.generate.mutate({ prompt: 'a failing teapot' }),
        await account('failing'),
      );
    },
  },
  FORBIDDEN: {
    rest: async () => rest('GET', '/admin/users', undefined, suite.user),
    trpc: async () => viaSdk((client) => client.admin.users.list.query({}), suite.user),
  },
  API_KEY_NOT_ALLOWED: {
    rest: async () => rest('GET', '/auth/me', undefined, await readOnlyKeyHolder()),
    trpc: async () => viaSdk((client) => client.auth.me.query(), await readOnlyKeyHolder()),
  },
  MISSING_SCOPE: {
    rest: async () => rest('POST', '/chats', { title: 'by key' }, await readOnlyKeyHolder()),
    trpc: async () =>
      viaSdk((client) => client.chats.create.mutate({ title: 'by key' }), await readOnlyKeyHolder()),
  },
  ACCOUNT_DISABLED: {
    rest: async () => {
      const disabled = await disabledAccount();
      return rest('POST', '/auth/login', { email: disabled.email, password: 'user password 1' });
    },
    trpc: async () => {
      const disabled = await disabledAccount();
      return viaSdk((client) => client.login(disabled.email, 'user password 1'));
    },
  },
  NOT_FOUND: {
    rest: async () => rest('GET', `/jobs/${MISSING_ID}`, undefined, suite.user),
    trpc: async () => viaSdk((client) => client.jobs.get.query({ id: MISSING_ID }), suite.user),
  },
  ROUTE_NOT_FOUND: {
    rest: async () => rest('GET', '/no-such-thing'),
    trpc: async () => answerOf(await fetch(url('/trpc/system.nothing'))),
  },
  METHOD_NOT_ALLOWED: {
    rest: {
      unprovokable:
        'the REST projection knows a path only with its method: any other method names no operation, ROUTE_NOT_FOUND',
    },
    trpc: async () => answerOf(await fetch(url(`/trpc/auth.login?input=${encodeURIComponent('{}')}`))),
  },
  CONFLICT: {
    rest: async () =>
      rest(
        'POST',
        '/users',
        { email: suite.user.email, userName: 'twin', password: 'a password 123' },
        suite.admin,
      ),
    trpc: async () =>
      viaSdk(
        (client) =>
          client.users.create.mutate({
            email: suite.user.email,
            userName: 'twin',
            password: 'a password 123',
          }),
        suite.admin,
      ),
  },
  RATE_LIMITED: {
    // AUTH_RATE_LIMIT_MAX is 3 per email: the fourth registration of one email is refused.
    rest: async () => {
      const registration = { email: 'again-rest@example.com', userName: 'Again', password: STRONG_PASSWORD };
      for (let attempt = 0; attempt < 3; attempt += 1)
        await callRest(suite.server.url, 'POST', '/auth/register', registration);
      return rest('POST', '/auth/register', registration);
    },
    trpc: async () => {
      const registration = { email: 'again-trpc@example.com', userName: 'Again', password: STRONG_PASSWORD };
      const client = createGen3dClient({ url: suite.server.url });
      for (let attempt = 0; attempt < 3; attempt += 1) await client.auth.register.mutate(registration);
      return viaSdk((sdk) => sdk.auth.register.mutate(registration));
    },
  },
  ACCOUNT_LOCKED: {
    // LOCKOUT_THRESHOLD is 2: the third wrong password in a row for one email meets the lock.
    rest: async () =>
      until('INVALID_CREDENTIALS', 3, () =>
        rest('POST', '/auth/login', { email: 'guesser-rest@example.com', password: 'guess' }),
      ),
    trpc: async () =>
      until('INVALID_CREDENTIALS', 3, () =>
        viaSdk((client) => client.login('guesser-trpc@example.com', 'guess')),
      ),
  },
  TOO_MANY_STREAMS: {
    rest: { unprovokable: 'subscriptions are not projected to REST' },
    trpc: async () => {
      // STREAMS_MAX_PER_USER is 1. tRPC answers a subscription as SSE (HTTP 200): the refusal is the stream's
      // one event, whose status is the answer's.
      const watcher = await account('watcher');
      const open = (signal?: AbortSignal) =>
        fetch(url(`/trpc/generation.watch?input=${encodeURIComponent('{}')}`), {
          headers: { ...bearer(watcher), accept: 'text/event-stream' },
          ...(signal ? { signal } : {}),
        });
      const holding = new AbortController();
      const first = await open(holding.signal);
      expect(first.status).toBe(200);
      try {
        const refused = await open();
        expect(refused.status).toBe(200);
        const events = await refused.text();
        const line = events.split('\n').find((candidate) => candidate.includes('"httpStatus"')) ?? '';
        const event = JSON.parse(line.replace(/^data: /, '')) as {
          data: { code: unknown; httpStatus: unknown };
        };
        return {
          status: Number(event.data.httpStatus),
          code: event.data.code,
          statusInBody: event.data.httpStatus,
        };
      } finally {
        holding.abort();
      }
    },
  },
  BATCH_TOO_LARGE: {
    rest: { unprovokable: 'REST has no batches' },
    trpc: async () =>
      answerOf(await fetch(url('/trpc/system.info,system.info,system.info,system.info?batch=1'))),
  },
  TIMEOUT: {
    rest: async () => {
      suite.faulty.faults.neverFinish = true;
      return rest('POST', '/generate', { prompt: 'a slow teapot' }, await account('waiting'));
    },
    trpc: async () => {
      suite.faulty.faults.neverFinish = true;
      return viaSdk(
        (client) => client.generation.generate.mutate({ prompt: 'a slow teapot' }),
        await account('waiting'),
      );
    },
  },
  SERVICE_UNAVAILABLE: {
    rest: {
      unprovokable:
        'answered only while the server stops or its database is down (tests/host/process.test.ts, docs-and-health.test.ts)',
    },
    trpc: {
      unprovokable: 'answered only while the server stops (tests/host/process.test.ts)',
    },
  },
  INTERNAL: {
    rest: { unprovokable: 'only a bug answers it' },
    trpc: { unprovokable: 'only a bug answers it' },
  },
};

let disabledHook: Promise<{ endpointId: string; owner: SignedIn }> | undefined;
/** An endpoint its owner disabled (WEBHOOK_ALLOWED_HOSTS lets it name localhost; nothing is ever sent to it). */
function disabledEndpoint(): Promise<{ endpointId: string; owner: SignedIn }> {
  disabledHook ??= (async () => {
    const owner = await account('hook-owner');
    const created = await callRest(
      suite.server.url,
      'POST',
      '/webhooks',
      { url: 'http://localhost:9/hook', events: ['job.succeeded'] },
      owner.token,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const endpointId = String(created.body.id);
    const paused = await callRest(
      suite.server.url,
      'PATCH',
      `/webhooks/${endpointId}`,
      { enabled: false },
      owner.token,
    );
    expect(paused.body.enabled).toBe(false);
    return { endpointId, owner };
  })();
  return disabledHook;
}

let disabled: Promise<SignedIn> | undefined;
function disabledAccount(): Promise<SignedIn> {
  disabled ??= (async () => {
    const signedIn = await account('disabled');
    const answer = await callRest(
      suite.server.url,
      'POST',
      `/admin/users/${signedIn.id}/deactivate`,
      {},
      suite.admin.token,
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return signedIn;
  })();
  return disabled;
}

describe('the error catalogue', () => {
  it('names a provoking call or the reason there is none, over REST and over tRPC, for every code', () => {
    expect(Object.keys(PROVOCATIONS).sort()).toEqual([...ErrorCodes].sort());
    for (const code of ErrorCodes) {
      for (const provocation of Object.values(PROVOCATIONS[code])) {
        if (typeof provocation !== 'function')
          expect(provocation.unprovokable.length, code).toBeGreaterThan(10);
      }
    }
  });

  it("gives each code the tRPC code whose own status is the code's, but for 416 and 431, which tRPC lacks", () => {
    const differing = ErrorCodes.filter(
      (code) =>
        getHTTPStatusCodeFromError(new TRPCError({ code: ErrorCatalogue[code].trpcCode })) !==
        ErrorCatalogue[code].status,
    );
    expect(differing.sort()).toEqual(['HEADERS_TOO_LARGE', 'RANGE_NOT_SATISFIABLE']);
  });
});

describe.each(['rest', 'trpc'] as const)('every error code over %s', (transport) => {
  const provokable = ErrorCodes.filter((code) => typeof PROVOCATIONS[code][transport] === 'function');
  it.each(provokable)('%s answers its catalogue status, in the response and in the body', async (code) => {
    const provoke = PROVOCATIONS[code][transport] as Provoke;
    const answer = await provoke();
    const { status } = ErrorCatalogue[code];
    expect(answer).toEqual({ status, code, statusInBody: status });
  });
});
