import { createHmac } from 'node:crypto';

/**
 * An implementation of RFC 4226/6238 independent of the service's (which uses otpauth): the tests
 * compute codes with this, so the service's codes are right by construction, not by agreement
 * with itself.
 */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function fromBase32(text: string): Buffer {
  let bits = '';
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    const value = BASE32.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function hotp(secret: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(value).padStart(digits, '0');
}

/** The 6-digit SHA-1 code of the 30-second step at `ms`, `offset` steps away. */
export function totp(secretBase32: string, ms: number, offset = 0): string {
  return hotp(fromBase32(secretBase32), Math.floor(ms / 30_000) + offset);
}
