import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

const encode = (part: object | string): string => Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url');

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString()),
  };
}

/** A JWS in compact form with whatever header, claims and signature an attacker chooses. */
export function forgeJwt(header: object, payload: object, signer: (input: string) => Buffer = () => Buffer.alloc(0)): string {
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${signer(input).toString('base64url')}`;
}

export const rs256With = (privateKey: KeyObject) => (input: string) => sign('sha256', Buffer.from(input), privateKey);
export const hs256With = (secret: string | Buffer) => (input: string) => createHmac('sha256', secret).update(input).digest();

export function otherRsaKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}
