import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

import ipaddr from 'ipaddr.js';

/** A URL the server was asked to fetch leads to an address that is not on the public internet. */
export class AddressRefusedError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    // The address a name resolved to stays out of the message: it would map the internal network.
    super(`${host} is a ${range} address`);
    this.name = 'AddressRefusedError';
  }
}

const GLOBAL_UNICAST_IPV6 = ipaddr.parseCIDR('2000::/3');

/**
 * The ipaddr.js range of an address: `unicast` for public ones, else `loopback`, `private`, `linkLocal`, ...
 * ipaddr.js calls every IPv6 address outside its special ranges unicast, yet only 2000::/3 is handed out
 * for the internet: the rest (such as the deprecated IPv4-compatible `::127.0.0.1`) is reserved.
 */
function rangeOf(address: string): string {
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range === 'unicast' && parsed.kind() === 'ipv6' && !parsed.match(GLOBAL_UNICAST_IPV6))
    return 'reserved';
  return range;
}

/**
 * Which addresses outgoing fetches on a user's behalf may reach: public unicast addresses, plus any
 * address of the hosts named in `allowedHosts`. Checked when the connection is made (after DNS), so a name
 * that resolves differently a second time cannot slip through.
 */
export interface AddressPolicy {
  /** For `connect.lookup`: resolves like dns.lookup and fails with AddressRefusedError on a refused address. */
  lookup: LookupFunction;
  /** Hosts written as IP literals never reach `lookup`; this refuses them before connecting. */
  checkUrl(url: URL): void;
}

/** `[::1]` (as URLs write IPv6 hosts) and `::1` are the same host. */
const bare = (host: string): string => host.replace(/^\[(.*)\]$/, '$1').toLowerCase();

export function publicAddressPolicy(allowedHosts: readonly string[]): AddressPolicy {
  const allowed = new Set(allowedHosts.map(bare));
  const refusal = (host: string, address: string): AddressRefusedError | undefined => {
    if (allowed.has(bare(host))) return undefined;
    const range = rangeOf(address);
    return range === 'unicast' ? undefined : new AddressRefusedError(host, address, range);
  };
  return {
    lookup(hostname, options, callback) {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) {
          callback(error, options.all ? [] : '', 0);
          return;
        }
        const refused = addresses.map((entry) => refusal(hostname, entry.address)).find(Boolean);
        if (refused) {
          callback(refused, options.all ? [] : '', 0);
          return;
        }
        const [first] = addresses;
        if (options.all) callback(null, addresses);
        else callback(null, first?.address ?? '', first?.family ?? 4);
      });
    },
    checkUrl(url) {
      const host = bare(url.hostname);
      if (isIP(host) === 0) return;
      const refused = refusal(host, host);
      if (refused) throw refused;
    },
  };
}
