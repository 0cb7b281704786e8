import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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
  return materialOf(privateKey);
}

/** An operator's RSA private key from a mounted PEM file (SIGNING_KEY_FILE). */
export async function loadSigningKeyFile(path: string): Promise<SigningKeyMaterial> {
  const privateKey = createPrivateKey(await readFile(path, 'utf8'));
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (privateKey.asymmetricKeyType !== 'rsa' || bits < 2048) {
    throw new Error(`SIGNING_KEY_FILE must hold an RSA private key of at least 2048 bits`);
  }
  return materialOf(privateKey);
}

async function materialOf(privateKey: KeyObject): Promise<SigningKeyMaterial> {
  const publicJwk = publicJwkOf(privateKey);
  return {
    kid: await calculateJwkThumbprint(publicJwk, 'sha256'),
    publicJwk,
    privateKeyDer: privateKey.export({ format: 'der', type: 'pkcs8' }),
  };
}
