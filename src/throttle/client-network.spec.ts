import { describe, expect, it } from 'vitest';
import { clientNetwork } from './client-network.js';

describe('clientNetwork', () => {
  it('counts an IPv4 address on its own', () => {
    expect(clientNetwork('203.0.113.7', 64)).toBe('203.0.113.7');
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(clientNetwork('::ffff:203.0.113.7', 64)).toBe('203.0.113.7');
  });

  it('groups IPv6 addresses by the configured prefix', () => {
    expect(clientNetwork('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64)).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:2:ffff::1', 64)).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:2:aaaa::1', 48)).toBe('2001:db8:1::/48');
    expect(clientNetwork('2001:db8:1:2:aaaa::1', 56)).toBe(clientNetwork('2001:db8:1:ff:1::1', 56));
  });

  it('gives every spelling of one network the same key', () => {
    expect(clientNetwork('2001:DB8:0001:0002::5', 64)).toBe(clientNetwork('2001:db8:1:2:0:0:0:6', 64));
  });

  it('keeps a full-length prefix per address', () => {
    expect(clientNetwork('2001:db8::1', 128)).toBe('2001:db8::1/128');
  });

  it('passes anything unparseable through unchanged', () => {
    expect(clientNetwork('unknown', 64)).toBe('unknown');
  });
});
