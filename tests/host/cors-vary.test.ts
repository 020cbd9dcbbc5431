import { describe, expect, it } from 'vitest';

import { useTestServer } from '../support/server.js';

const ORIGIN = 'https://app.example.com';

const suite = useTestServer({ env: { CORS_ORIGINS: `${ORIGIN},https://admin.example.com` } });

/** The fields a response varies on, lower-cased. */
function varyOf(response: Response): string[] {
  return (response.headers.get('vary') ?? '').split(',').map((field) => field.trim().toLowerCase());
}

describe('Vary on answers whose allowed origin depends on the caller', () => {
  it('names Origin on REST answers and on tRPC answers, whole and streamed, beside what tRPC varies on', async () => {
    const rest = await fetch(`${suite.server.url}/api/system/info`, { headers: { origin: ORIGIN } });
    expect(rest.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(varyOf(rest)).toContain('origin');
    await rest.arrayBuffer();

    const whole = await fetch(`${suite.server.url}/trpc/system.info`, { headers: { origin: ORIGIN } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(varyOf(whole)).toEqual(expect.arrayContaining(['origin', 'trpc-accept', 'accept']));
    await whole.arrayBuffer();

    // A subscription is answered as an event stream (here carrying the refusal of an anonymous caller).
    const stream = await fetch(
      `${suite.server.url}/trpc/generation.watch?input=${encodeURIComponent('{}')}`,
      {
        headers: { origin: ORIGIN, accept: 'text/event-stream' },
      },
    );
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(varyOf(stream)).toEqual(expect.arrayContaining(['origin', 'trpc-accept', 'accept']));
    expect(await stream.text()).toContain('UNAUTHORIZED');
  });
});
