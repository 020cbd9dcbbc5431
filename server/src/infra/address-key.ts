import ipaddr from 'ipaddr.js';

/**
 * Whom per-address limits count a client against. An IPv4 address is one client; an IPv6 client usually
 * holds a whole /64 (a home or mobile network is given one, and picks new addresses in it at will), so
 * every address of a /64 counts as the same client. IPv4-mapped IPv6 addresses count as their IPv4 one.
 */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const prefix = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${prefix.map((part) => part.toString(16)).join(':')}::/64`;
}
