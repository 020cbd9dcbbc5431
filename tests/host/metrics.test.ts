import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signInNewAdmin, signInNewUser, type SignedIn } from '../support/accounts.js';
import { clientFor, followJob } from '../support/generation.js';
import { logLine, runTypeScript } from '../support/process.js';
import { parsePrometheusText, samplesOf, valueOf, type Sample } from '../support/prometheus.js';
import { callRest } from '../support/rest.js';
import { jsonOf, startTestServer, useTestServer, type TestServer } from '../support/server.js';

const suite = useTestServer({ env: { AUTH_RATE_LIMIT_MAX: '1000' }, modelDurationMs: 1_500 });

async function scrape(server: TestServer, token?: string): Promise<Sample[]> {
  const response = await fetch(`${server.url}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  expect(response.status, text.slice(0, 300)).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(text);
}

const REQUESTS = 'gen3d_http_request_duration_seconds_count';
const CALLS = 'gen3d_trpc_call_duration_seconds_count';

/** How much each of `counts` grew between two scrapes. */
function growth(
  before: Sample[],
  after: Sample[],
  name: string,
  counts: Array<Record<string, string>>,
): number[] {
  return counts.map((labels) => valueOf(after, name, labels) - valueOf(before, name, labels));
}

describe('GET /metrics', () => {
  let admin: SignedIn;
  let ana: SignedIn;
  beforeAll(async () => {
    admin = await signInNewAdmin(suite.server);
    ana = await signInNewUser(suite.server, admin, 'ana@example.com');
  });

  it('times REST requests by route pattern, method and status, and every unknown URL under one label', async () => {
    const before = await scrape(suite.server);
    expect((await callRest(suite.server.url, 'GET', '/system/info')).status).toBe(200);
    const missingJob = '0123456789abcdef01234567';
    expect(
      (await callRest(suite.server.url, 'GET', `/jobs/${missingJob}`, undefined, ana.token)).status,
    ).toBe(404);
    expect((await callRest(suite.server.url, 'GET', `/jobs/${missingJob}/`, undefined)).status).toBe(401);
    expect((await callRest(suite.server.url, 'GET', '/no-such-thing/42')).status).toBe(404);
    expect((await fetch(`${suite.server.url}/elsewhere/7?x=1`)).status).toBe(404);
    const after = await scrape(suite.server);

    expect(
      growth(before, after, REQUESTS, [
        { route: '/api/system/info', method: 'GET', status: '200' },
        { route: '/api/jobs/:id', method: 'GET', status: '404' },
        { route: '/api/jobs/:id', method: 'GET', status: '401' },
        { route: 'unmatched', method: 'GET', status: '404' },
      ]),
    ).toEqual([1, 1, 1, 2]);
    const routes = new Set(samplesOf(after, REQUESTS).map((sample) => sample.labels.route));
    expect([...routes].filter((route) => /no-such-thing|elsewhere|0123456789/.test(String(route)))).toEqual(
      [],
    );
    // The histogram has buckets and a sum for each series, not only a count.
    expect(
      valueOf(after, 'gen3d_http_request_duration_seconds_bucket', {
        route: '/api/system/info',
        le: '+Inf',
      }),
    ).toBe(valueOf(after, REQUESTS, { route: '/api/system/info' }));
  });

  it('counts each tRPC call by procedure path, a batch once per call with its own status', async () => {
    const before = await scrape(suite.server);
    expect((await fetch(`${suite.server.url}/trpc/system.info`)).status).toBe(200);
    const batch = await fetch(`${suite.server.url}/trpc/system.info,auth.me,nope.missing?batch=1`);
    expect(batch.status).toBe(207);
    const answers = (await batch.json()) as Array<{ error?: { data?: { httpStatus?: number } } }>;
    expect(answers.map((answer) => answer.error?.data?.httpStatus ?? 200)).toEqual([200, 401, 404]);
    expect((await clientFor(suite.server, ana).auth.me.query()).email).toBe('ana@example.com');
    const after = await scrape(suite.server);

    expect(
      growth(before, after, CALLS, [
        { procedure: 'system.info', method: 'GET', status: '200' },
        { procedure: 'auth.me', method: 'GET', status: '401' },
        { procedure: 'auth.me', method: 'GET', status: '200' },
        { procedure: 'unknown', method: 'GET', status: '404' },
      ]),
    ).toEqual([2, 1, 1, 1]);
    expect(samplesOf(after, CALLS).some((sample) => sample.labels.procedure === 'nope.missing')).toBe(false);
    // At the HTTP level each request counts once, under tRPC's route.
    expect(growth(before, after, REQUESTS, [{ route: '/trpc/:path', method: 'GET' }])).toEqual([3]);
  });

  it('reports the running job on the busy workers, then counts and times the finished run under its model server', async () => {
    const before = await scrape(suite.server);
    const queued = await callRest(
      suite.server.url,
      'POST',
      '/jobs',
      { prompt: 'a lantern on a stone', params: { seed: 3 } },
      ana.token,
    );
    expect(queued.status, JSON.stringify(queued.body)).toBe(201);
    const jobId = String(queued.body.id);
    const client = clientFor(suite.server, ana);

    // The reference model server takes 1.5 s, so the job is still running when it reports progress.
    await followJob(client, jobId, (job) => job.status === 'running' && job.progress > 0);
    const running = await scrape(suite.server);
    expect(valueOf(running, 'gen3d_workers_size')).toBe(suite.server.config.jobs.workerConcurrency);
    expect(valueOf(running, 'gen3d_workers_busy')).toBe(1);
    expect(valueOf(running, 'gen3d_workers_utilisation_ratio')).toBe(
      1 / suite.server.config.jobs.workerConcurrency,
    );
    expect(valueOf(running, 'gen3d_jobs', { status: 'running' })).toBe(1);

    const final = (await followJob(client, jobId)).at(-1);
    expect(final?.status).toBe('succeeded');
    // The worker records its run right after it wrote the outcome that clients were just told about.
    const runs = { model_server: 'reference', outcome: 'succeeded' };
    await expect
      .poll(async () => valueOf(await scrape(suite.server), 'gen3d_job_runs_total', runs), {
        timeout: 30_000,
      })
      .toBe(valueOf(before, 'gen3d_job_runs_total', runs) + 1);
    const after = await scrape(suite.server);
    expect(growth(before, after, 'gen3d_job_run_duration_seconds_count', [runs])).toEqual([1]);
    const seconds =
      valueOf(after, 'gen3d_job_run_duration_seconds_sum', runs) -
      valueOf(before, 'gen3d_job_run_duration_seconds_sum', runs);
    expect(seconds).toBeGreaterThanOrEqual(1.4);
    expect(seconds).toBeLessThan(60);
    expect(valueOf(after, 'gen3d_workers_busy')).toBe(0);
    expect(valueOf(after, 'gen3d_workers_utilisation_ratio')).toBe(0);
  });

  it('gauges the jobs of the shared database by status, the same from every instance', async () => {
    const client = await MongoClient.connect(suite.server.mongodbUri);
    const inDatabase: Record<string, number> = {};
    try {
      for (const status of ['queued', 'running', 'succeeded', 'failed', 'canceled'])
        inDatabase[status] = await client.db().collection('jobs').countDocuments({ status });
    } finally {
      await client.close();
    }
    expect(inDatabase.succeeded).toBeGreaterThanOrEqual(1);

    // An API-only instance on the same database: no workers of its own, the same queue.
    const apiOnly = await startTestServer(suite.database, {
      mongodbUri: suite.server.mongodbUri,
      env: { WORKER_CONCURRENCY: '0' },
    });
    try {
      for (const server of [suite.server, apiOnly]) {
        const samples = await scrape(server);
        const gauges = Object.fromEntries(
          samplesOf(samples, 'gen3d_jobs').map((sample) => [sample.labels.status, sample.value]),
        );
        expect(gauges).toEqual(inDatabase);
      }
      const idle = await scrape(apiOnly);
      expect(valueOf(idle, 'gen3d_workers_size')).toBe(0);
      expect(valueOf(idle, 'gen3d_workers_utilisation_ratio')).toBe(0);
      expect(samplesOf(idle, 'gen3d_job_runs_total')).toEqual([]);
    } finally {
      await apiOnly.close();
    }
  });

  it('exposes event-loop lag and process metrics', async () => {
    const samples = await scrape(suite.server);
    expect(samplesOf(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(samplesOf(samples, 'nodejs_eventloop_lag_p99_seconds')).toHaveLength(1);
    expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('is not part of the API: absent from /openapi.json', async () => {
    const document = (await jsonOf(await fetch(`${suite.server.url}/openapi.json`))) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(document.paths).filter((path) => path.endsWith('/metrics'))).toEqual([]);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const token = 'scrape-token-0123456789abcdef';
  let guarded: TestServer;
  beforeAll(async () => {
    guarded = await startTestServer(suite.database, {
      env: { METRICS_TOKEN: token, RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '600000' },
    });
  });
  afterAll(async () => guarded.close());

  it('answers 401 in the API error shape without the token or with a wrong one, and 200 with it', async () => {
    for (const authorization of [undefined, `Bearer ${token.slice(0, -1)}x`, `Bearer ${token}extra`, token]) {
      const response = await fetch(`${guarded.url}/metrics`, {
        headers: authorization ? { authorization } : {},
      });
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = await jsonOf(response);
      expect(body).toMatchObject({ code: 'UNAUTHORIZED', statusCode: 401 });
      expect(body.requestId).toBe(response.headers.get('x-request-id'));
      expect(JSON.stringify(body)).not.toContain(token);
    }
    expect(samplesOf(await scrape(guarded, token), 'gen3d_jobs').length).toBe(5);
  });

  it('is not held to the global rate limit, so a scraper never meets a 429', async () => {
    const api = [];
    for (let call = 0; call < 3; call += 1)
      api.push((await callRest(guarded.url, 'GET', '/system/info')).status);
    expect(api).toEqual([200, 200, 429]);
    for (let call = 0; call < 5; call += 1) await scrape(guarded, token);
  });
});

describe('METRICS_TOKEN at start-up', () => {
  const MAIN = 'server/src/main.ts';
  const production = {
    NODE_ENV: 'production',
    MONGODB_URI: 'mongodb://127.0.0.1:9/gen3d',
    JWT_SECRET: 'a-production-secret-that-is-long-enough-0123456789',
    CORS_ORIGINS: 'https://app.example.com',
  };

  it('refuses a production start without METRICS_TOKEN, saying what to set', async () => {
    const server = runTypeScript(MAIN, production);
    expect((await server.exited).code).toBe(1);
    expect(server.stderr()).toContain('METRICS_TOKEN: required in production');
    expect(server.stderr()).not.toMatch(/MONGODB_URI|JWT_SECRET|CORS_ORIGINS/);
  });

  it('refuses a weak token without printing it', async () => {
    const server = runTypeScript(MAIN, { ...production, METRICS_TOKEN: 'short token' });
    expect((await server.exited).code).toBe(1);
    expect(server.stderr()).toContain('METRICS_TOKEN: must be at least 16 printable characters');
    expect(server.stderr()).not.toContain('short token');
  });

  it('never logs the token, and logs JSON lines when stdout is not a terminal', async () => {
    const secret = 'never-in-the-logs-0123456789';
    const server = runTypeScript(MAIN, {
      NODE_ENV: 'development',
      PORT: '0',
      MODEL_SERVER_PORT: '0',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'gen3d-data-')),
      LOG_LEVEL: 'trace',
      METRICS_TOKEN: secret,
      ...(process.env.MONGODB_URI ? { MONGODB_URI: process.env.MONGODB_URI } : {}),
    });
    const listening = await server.waitForLine((line) => logLine(line)?.msg === 'gen3d is listening');
    const address = String(logLine(listening)?.address);
    expect(
      (await fetch(`${address}/metrics`, { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(200);
    expect((await fetch(`${address}/metrics?token=${secret}`)).status).toBe(401);
    await server.waitForLine((line) => {
      const entry = logLine(line) as { msg?: string; res?: { statusCode?: number } } | undefined;
      return entry?.msg === 'request completed' && entry.res?.statusCode === 401;
    });
    server.child.kill('SIGTERM');
    expect((await server.exited).code, server.output()).toBe(0);
    expect(server.lines.filter((line) => line.trim() !== '' && logLine(line) === undefined)).toEqual([]);
    expect(server.lines.join('\n')).not.toContain(secret);
  });
});
