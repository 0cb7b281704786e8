import ipaddr from 'ipaddr.js';

/**
 * The unit a client's budget is counted in: an IPv4 address, or the IPv6 network of
 * `ipv6PrefixLength` bits around the address. One subscriber is routinely given a whole /64 (RFC
 * 6177), so counting per IPv6 address would hand every such client 2^64 fresh budgets. IPv4-mapped
 * IPv6 addresses count as the IPv4 address they carry.
 */
export function clientNetwork(address: string, ipv6PrefixLength: number): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const bytes = parsed.toByteArray();
  for (let bit = ipv6PrefixLength; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return `${ipaddr.fromByteArray(bytes).toString()}/${ipv6PrefixLength}`;
}
