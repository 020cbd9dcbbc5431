import { isIP } from 'node:net';

import ipaddr from 'ipaddr.js';

/**
 * The proxies whose `X-Forwarded-*` headers are believed, in Fastify's `trustProxy` forms: none, how many
 * hops sit in front of the server, or their addresses and networks. "Trust every hop" is not offered: it
 * takes the client address from the left-most `X-Forwarded-For` entry, which the client writes itself.
 */
export type TrustedProxies = false | number | string[];

/** proxy-addr's names for whole ranges, which Fastify accepts in the list form. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

export type TrustedProxiesParse = { ok: true; value: TrustedProxies } | { ok: false; message: string };

export function parseTrustedProxies(setting: string): TrustedProxiesParse {
  const value = setting.trim();
  if (value === '' || value === 'false' || value === '0') return { ok: true, value: false };
  if (value === 'true')
    return {
      ok: false,
      message:
        'true would let any client choose its address with X-Forwarded-For; set how many proxies sit in front (e.g. 1) or their addresses (e.g. 10.0.0.5,10.1.0.0/16)',
    };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= 10
      ? { ok: true, value: hops }
      : { ok: false, message: `${value} proxy hops is more than any real chain (at most 10)` };
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const invalid = entries.filter((entry) => !isProxyAddress(entry));
  if (invalid.length > 0)
    return {
      ok: false,
      message: `${invalid.join(', ')}: not an IP address, a CIDR network or one of loopback, linklocal, uniquelocal`,
    };
  return { ok: true, value: entries };
}

function isProxyAddress(entry: string): boolean {
  if (NAMED_RANGES.has(entry) || isIP(entry) !== 0) return true;
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}

/** The setting as Fastify's options type it (its typings omit the hop count that its runtime accepts). */
export function fastifyTrustProxy(
  proxies: TrustedProxies,
): false | string[] | ((address: string, hop: number) => boolean) {
  return typeof proxies === 'number' ? (_address, hop) => hop < proxies : proxies;
}
