import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint } from 'jose';

const generateRsaKeyPair = promisify(generateKeyPair);

export interface PublicRsaJwk {
  kty: 'RSA';
  n: string;
  e: string;
}

export interface SigningKeyMaterial {
  kid: string;
  publicJwk: PublicRsaJwk;
  privateKeyDer: Buffer;
}

/** Only the public members, whatever else the key object would export. */
export function publicJwkOf(key: KeyObject): PublicRsaJwk {
  const { n, e } = createPublicKey(key).export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('not an RSA key');
  return { kty: 'RSA', n, e };
}

/** A fresh RSA-2048 key pair with its RFC 7638 thumbprint as the kid. */
export async function generateSigningKeyMaterial(): Promise<SigningKeyMaterial> {
  const { privateKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const publicJwk = publicJwkOf(privateKey);
  return {
    kid: await calculateJwkThumbprint(publicJwk, 'sha256'),
    publicJwk,
    privateKeyDer: privateKey.export({ format: 'der', type: 'pkcs8' }),
  };
}
