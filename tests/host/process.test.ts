import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { logLine, runTypeScript } from '../support/process.js';

const MAIN = 'server/src/main.ts';

function baseEnv(dataDir: string): Record<string, string> {
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    PORT: '0',
    MODEL_SERVER_PORT: '0',
    DATA_DIR: dataDir,
    SHUTDOWN_TIMEOUT_MS: '10000',
  };
  if (process.env.MONGODB_URI) env.MONGODB_URI = process.env.MONGODB_URI;
  return env;
}

async function listeningAddress(server: ReturnType<typeof runTypeScript>): Promise<string> {
  const line = await server.waitForLine((candidate) => logLine(candidate)?.msg === 'gen3d is listening');
  return String(logLine(line)?.address);
}

interface InFlightRequest {
  /** Sends the rest of the request (its body), and anything after it on the same connection. */
  finish(more?: string): void;
  /** Everything the server wrote on the connection, once it closed. */
  closed: Promise<string>;
}

/** A connection carrying `POST path` whose headers are sent and whose 2-byte body is not, yet. */
async function requestInFlight(
  server: ReturnType<typeof runTypeScript>,
  address: URL,
  path: string,
  headers = '',
): Promise<InFlightRequest> {
  const socket = connect(Number(address.port), address.hostname);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let answer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    answer += chunk;
  });
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(answer)));
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${address.host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n${headers}\r\n`,
  );
  await server.waitForLine((line) => {
    const entry = logLine(line) as { msg?: string; req?: { url?: string } } | undefined;
    return entry?.msg === 'incoming request' && entry.req?.url === path;
  });
  return { finish: (more = '') => socket.write(`{}${more}`), closed };
}

/** An HTTP/1.1 stream of answers, split into [head, parsed JSON body] pairs. */
function answersIn(stream: string): Array<{ head: string; body: Record<string, unknown> }> {
  return stream.split(/(?=HTTP\/1\.1 )/).map((answer) => ({
    head: answer.slice(0, answer.indexOf('\r\n\r\n')),
    body: JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>,
  }));
}

describe('the server process', () => {
  it('refuses to start in production without MONGODB_URI, a strong JWT_SECRET and CORS origins, naming each', async () => {
    const server = runTypeScript(MAIN, { NODE_ENV: 'production', JWT_SECRET: 'short' });
    const { code } = await server.exited;
    expect(code).toBe(1);
    const message = server.stderr();
    expect(message).toContain('MONGODB_URI');
    expect(message).toContain('JWT_SECRET');
    expect(message).toContain('CORS_ORIGINS');
    expect(message).not.toContain('short');
  });

  it('names a malformed variable and its value at startup', async () => {
    const server = runTypeScript(MAIN, { PORT: 'eighty' });
    expect((await server.exited).code).toBe(1);
    expect(server.stderr()).toMatch(/PORT: .*'eighty'/);
  });

  it('refuses TRUST_PROXY=true, which would let clients choose their address, and names the forms it takes', async () => {
    const server = runTypeScript(MAIN, { TRUST_PROXY: 'true' });
    expect((await server.exited).code).toBe(1);
    expect(server.stderr()).toMatch(/TRUST_PROXY: .*X-Forwarded-For.*\(e\.g\. 1\)/);
    const malformed = runTypeScript(MAIN, { TRUST_PROXY: '10.0.0.0/33,proxy.internal' });
    expect((await malformed.exited).code).toBe(1);
    expect(malformed.stderr()).toContain('10.0.0.0/33, proxy.internal: not an IP address, a CIDR network');
  });

  it('refuses a DEFAULT_MODEL_SERVER that is not configured, and never prints the Meshy API key', async () => {
    const server = runTypeScript(MAIN, {
      DEFAULT_MODEL_SERVER: 'hunyuan3d',
      MESHY_API_KEY: '',
      MESHY_URL: 'not a url',
    });
    expect((await server.exited).code).toBe(1);
    expect(server.stderr()).toMatch(/MESHY_URL: .*'not a url'/);
    const unconfigured = runTypeScript(MAIN, {
      DEFAULT_MODEL_SERVER: 'hunyuan3d',
      MESHY_API_KEY: 'msy_secret_key_value',
    });
    expect((await unconfigured.exited).code).toBe(1);
    expect(unconfigured.stderr()).toContain(
      "DEFAULT_MODEL_SERVER: 'hunyuan3d' is not configured; set HUNYUAN3D_URL",
    );
    expect(unconfigured.stderr() + unconfigured.lines.join('\n')).not.toContain('msy_secret_key_value');
  });

  it('starts on embedded defaults, logs what it generated, and writes rotated log files under LOG_DIR', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gen3d-data-'));
    const logDir = mkdtempSync(join(tmpdir(), 'gen3d-logs-'));
    const server = runTypeScript(MAIN, { ...baseEnv(dataDir), LOG_DIR: logDir });
    const address = await listeningAddress(server);
    expect(
      server.lines.some((line) => String(logLine(line)?.msg).startsWith('JWT_SECRET is not set: generated')),
    ).toBe(true);
    const response = await fetch(`${address}/api/system/info?token=super-secret-value`, {
      headers: { authorization: 'Bearer abc.def.ghi' },
    });
    expect(response.status).toBe(200);
    // Without MODEL_SERVER_URL the reference model server runs on its own port.
    const reference = server.lines
      .map(logLine)
      .find((line) => String(line?.msg).startsWith('reference model server'));
    const health = (await (await fetch(`${String(reference?.url)}/health`)).json()) as { generator?: string };
    expect(health.generator).toBe('procedural');
    server.child.kill('SIGTERM');
    expect((await server.exited).code, server.output()).toBe(0);

    const files = readdirSync(logDir);
    const appLog = files.find((name) => name.startsWith('app.') && name.endsWith('.log'));
    const errorLog = files.find((name) => name.startsWith('error.') && name.endsWith('.log'));
    expect(appLog, files.join(',')).toBeDefined();
    expect(errorLog, files.join(',')).toBeDefined();
    const written = readFileSync(join(logDir, appLog as string), 'utf8');
    expect(written).toContain('/api/system/info');
    expect(written).not.toContain('super-secret-value');
    expect(written).not.toContain('abc.def.ghi');
    expect(server.lines.join('\n')).not.toContain('super-secret-value');
  });

  it('starts side by side with another instance on the default helper ports, and names PORT when it is taken', async () => {
    const env = (): Record<string, string> => {
      const { MODEL_SERVER_PORT: _free, ...rest } = baseEnv(mkdtempSync(join(tmpdir(), 'gen3d-data-')));
      return rest;
    };
    const first = runTypeScript(MAIN, env());
    const second = runTypeScript(MAIN, env());
    const [firstAddress, secondAddress] = await Promise.all([
      listeningAddress(first),
      listeningAddress(second),
    ]);
    const referenceUrls = [first, second].map(
      (server) =>
        server.lines.map(logLine).find((line) => String(line?.msg).startsWith('reference model server'))?.url,
    );
    expect(new Set(referenceUrls).size).toBe(2);
    // Each serves the built demo page at / with its own policy.
    const page = await fetch(`${secondAddress}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('/demo/app.js');
    // The bundle is read to its end: a client that stops reading holds the connection open, and shutdown waits for it.
    const script = await fetch(`${secondAddress}/demo/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(0);

    const taken = runTypeScript(MAIN, { ...env(), PORT: new URL(firstAddress).port });
    expect((await taken.exited).code).toBe(1);
    const output = taken.stderr() + taken.lines.join('\n');
    expect(output).toContain(`gen3d cannot listen on port ${new URL(firstAddress).port}`);
    expect(output).toContain('set PORT to a free port');
    expect(output).not.toMatch(/\n\s+at /);
    for (const server of [first, second]) {
      server.child.kill('SIGTERM');
      expect((await server.exited).code, server.output()).toBe(0);
    }
  });

  it('finishes a request in flight on SIGTERM, closes its kept-alive connection, refuses new ones, and exits cleanly', async () => {
    const server = runTypeScript(MAIN, baseEnv(mkdtempSync(join(tmpdir(), 'gen3d-data-'))));
    const address = new URL(await listeningAddress(server));
    // Kept alive: once its answer is out the server closes it itself, instead of waiting for the client.
    const inFlight = await requestInFlight(server, address, '/api/nothing-here');

    server.child.kill('SIGTERM');
    await server.waitForLine((line) => String(logLine(line)?.msg).startsWith('shutting down'));
    await expect(fetch(`${address.origin}/health`)).rejects.toThrow();

    inFlight.finish();
    const [answer] = answersIn(await inFlight.closed);
    expect(answer?.head).toMatch(/^HTTP\/1\.1 404/);
    expect(answer?.body.code).toBe('ROUTE_NOT_FOUND');
    expect((await server.exited).code, server.output()).toBe(0);
    expect(server.lines.some((line) => logLine(line)?.msg === 'stopped cleanly')).toBe(true);
  });

  it("answers requests arriving on an open connection during shutdown with 503 in the API's error shape, and closes it", async () => {
    const server = runTypeScript(MAIN, baseEnv(mkdtempSync(join(tmpdir(), 'gen3d-data-'))));
    const address = new URL(await listeningAddress(server));
    // Two kept-alive connections, each with a request in flight when the signal arrives ...
    const forTrpc = await requestInFlight(server, address, '/api/nothing-here');
    const forRest = await requestInFlight(server, address, '/api/nothing-here-either');
    server.child.kill('SIGTERM');
    await server.waitForLine((line) => String(logLine(line)?.msg).startsWith('shutting down'));

    // ... then carry more requests.
    const next = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: ${address.host}\r\n\r\n`;
    forTrpc.finish(next('/trpc/system.info') + next('/health'));
    forRest.finish(next('/api/system/info'));
    const [trpcAnswers, restAnswers] = await Promise.all([forTrpc.closed, forRest.closed]);

    const [, trpcRefusal, ...afterTrpc] = answersIn(trpcAnswers);
    expect(trpcRefusal?.head).toMatch(/^HTTP\/1\.1 503/);
    expect(trpcRefusal?.head).toMatch(/\r\nconnection: close/i);
    const trpcError = trpcRefusal?.body.error as { message: string; data: Record<string, unknown> };
    expect(trpcError.data).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      httpStatus: 503,
      requestId: expect.any(String),
    });
    expect(trpcError.message).toContain('shutting down');
    // The connection closed after the refusal: the request behind it was left for the client to resend.
    expect(afterTrpc).toEqual([]);

    const [, restRefusal] = answersIn(restAnswers);
    expect(restRefusal?.head).toMatch(/^HTTP\/1\.1 503/);
    expect(restRefusal?.body).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      statusCode: 503,
      error: expect.stringContaining('shutting down'),
      requestId: expect.any(String),
    });
    expect((await server.exited).code, server.output()).toBe(0);
  });
});
