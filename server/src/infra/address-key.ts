import ipaddr from 'ipaddr.js';

/** A dotted IPv4 address as ipaddr.js prints it (no leading zeros, each part at most 255): its own key. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * Whom per-address limits count a client against. An IPv4 address is one client; an IPv6 client usually
 * holds a whole /64 (a home or mobile network is given one, and picks new addresses in it at will), so
 * every address of a /64 counts as the same client. IPv4-mapped IPv6 addresses count as their IPv4 one.
 */
export function addressKey(address: string): string {
  // The usual case, answered without parsing (ipaddr.js would hand the same text back).
  if (CANONICAL_IPV4.test(address)) return address;
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const prefix = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${prefix.map((part) => part.toString(16)).join(':')}::/64`;
}
