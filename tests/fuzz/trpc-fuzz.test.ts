import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ErrorCodes } from '@gen3d/shared';

import { signInNewAdmin, type SignedIn } from '../support/accounts.js';
import { useTestServer } from '../support/server.js';
import { hostileBodyText, hostileValue } from './hostile-values.js';

const REQUESTS = Number(process.env.FUZZ_TRPC_REQUESTS ?? 2_000);
const SEED = Number(process.env.FUZZ_SEED ?? 13);
const INTERNALS = /\n\s+at |node_modules|\/work\/|\.ts:\d+:\d+/;
const KNOWN_CODES = new Set<string>(ErrorCodes);

const suite = useTestServer({
  env: {
    RATE_LIMIT_MAX: '10000000',
    AUTH_RATE_LIMIT_MAX: '10000000',
    GENERATION_RATE_LIMIT_MAX: '10000000',
    WORKER_CONCURRENCY: '0',
  },
});

const PROCEDURES = [
  'system.info',
  'auth.me',
  'auth.login',
  'auth.changePassword',
  'auth.logout',
  'chats.list',
  'chats.create',
  'messages.list',
  'jobs.list',
  'jobs.get',
  'generation.create',
  'generation.watch',
  'admin.stats',
  'users.list',
  'no.such.procedure',
  '__proto__',
  'constructor',
  'auth.__proto__',
  'toString',
  '',
];

interface TrpcCase {
  procedures: string[];
  method: 'GET' | 'POST';
  input:
    { kind: 'json'; value: unknown } | { kind: 'text'; text: string; contentType: string } | { kind: 'none' };
  token: 'none' | 'signed-in' | 'garbage';
}

const trpcCase: fc.Arbitrary<TrpcCase> = fc.record({
  procedures: fc.array(fc.constantFrom(...PROCEDURES), { minLength: 1, maxLength: 14 }),
  method: fc.constantFrom<'GET' | 'POST'>('GET', 'POST'),
  input: fc.oneof(
    hostileValue.map((value) => ({ kind: 'json' as const, value })),
    hostileBodyText.map(({ text, contentType }) => ({ kind: 'text' as const, text, contentType })),
    fc.constant({ kind: 'none' as const }),
  ),
  token: fc.constantFrom<TrpcCase['token']>('none', 'signed-in', 'garbage'),
});

/** Every error an answer carries, in the tRPC shape or the host's REST shape, with its code. */
function errorCodesIn(body: unknown): string[] {
  const entries = Array.isArray(body) ? body : [body];
  return entries.flatMap((entry) => {
    if (entry === null || typeof entry !== 'object') return ['(not an object)'];
    const record = entry as { error?: unknown; code?: unknown; result?: unknown };
    if (record.result !== undefined) return [];
    if (typeof record.error === 'string') return [String(record.code)];
    const data = (record.error as { data?: { code?: unknown } } | undefined)?.data;
    return [String(data?.code)];
  });
}

describe('tRPC fuzzing: batches, malformed input strings and unknown procedures', () => {
  it(`answers ${REQUESTS} generated calls (seed ${SEED}) without a 5xx, each error with a catalogued code`, async () => {
    const admin: SignedIn = await signInNewAdmin(suite.server, 'trpc-fuzz@example.com');
    const cases = fc.sample(trpcCase, { seed: SEED, numRuns: REQUESTS });
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const call = cases[next++] as TrpcCase;
        const batch = call.procedures.length > 1 || next % 3 === 0;
        const inputs =
          batch && call.input.kind === 'json'
            ? JSON.stringify(
                Object.fromEntries(
                  call.procedures.map((_, index) => [
                    String(index),
                    call.input.kind === 'json' ? call.input.value : undefined,
                  ]),
                ),
              )
            : call.input.kind === 'json'
              ? JSON.stringify(call.input.value)
              : call.input.kind === 'text'
                ? call.input.text
                : undefined;
        const headers: Record<string, string> = {};
        if (call.token === 'signed-in') headers.authorization = `Bearer ${admin.token}`;
        if (call.token === 'garbage') headers.authorization = 'Bearer garbage';
        let url = `${suite.server.url}/trpc/${call.procedures.join(',')}${batch ? '?batch=1' : ''}`;
        let body: string | undefined;
        if (call.method === 'GET' && inputs !== undefined)
          url += `${batch ? '&' : '?'}input=${encodeURIComponent(inputs)}`;
        if (call.method === 'POST') {
          body = inputs;
          headers['content-type'] = call.input.kind === 'text' ? call.input.contentType : 'application/json';
        }
        const label = `${call.method} ${url.slice(suite.server.url.length, suite.server.url.length + 160)} ${body?.slice(0, 120) ?? ''}`;
        // A subscription answers as a stream; only its first event is read.
        const controller = new AbortController();
        const response = await fetch(url, {
          method: call.method,
          headers,
          signal: controller.signal,
          ...(body === undefined ? {} : { body }),
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
          const reader = response.body?.getReader();
          await reader?.read();
          controller.abort();
          continue;
        }
        const text = await response.text();
        if (response.status >= 500) problems.push(`${response.status} for ${label}: ${text.slice(0, 200)}`);
        if (INTERNALS.test(text)) problems.push(`internals in the answer to ${label}: ${text.slice(0, 200)}`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          problems.push(`not JSON (${response.status}) for ${label}: ${text.slice(0, 120)}`);
          continue;
        }
        for (const code of errorCodesIn(parsed))
          if (!KNOWN_CODES.has(code))
            problems.push(`error code ${code} (${response.status}) for ${label}: ${text.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, () => worker()));
    expect((await fetch(`${suite.server.url}/health`)).status).toBe(200);
    const summary = [...statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    console.log(
      `tRPC fuzz: ${cases.length} calls (seed ${SEED}); statuses ${summary}; findings ${problems.length}`,
    );
    for (const problem of [...new Set(problems)].slice(0, 20)) console.log(`  ${problem}`);
    expect(problems).toEqual([]);
  }, 600_000);
});
