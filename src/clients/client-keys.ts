import { createPublicKey } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';

/**
 * The algorithms a private_key_jwt assertion may be signed with, advertised in discovery as
 * `…_endpoint_auth_signing_alg_values_supported`. Asymmetric only: an HMAC assertion would need
 * the client secret on our side in the clear.
 */
export const CLIENT_ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

const MAX_KEYS = 10;
const MIN_RSA_BITS = 2048;
const CURVES: Record<string, readonly string[]> = { EC: ['P-256', 'P-384', 'P-521'], OKP: ['Ed25519'] };

/** The members a public key is made of, per key type; anything else (d, p, q, k, oth...) is refused or dropped. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};
const DESCRIPTIVE_MEMBERS = ['kid', 'alg', 'use', 'key_ops'];
/** Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export class InvalidKeySet extends Error {}

/**
 * A client's registered JWK set, as it is stored: public keys only, each of a key type and size we
 * accept, with only its public and descriptive members (an allow-list, so nothing private can be
 * kept by accident). A private or symmetric key is refused, not stripped: whoever sent it has
 * leaked it and must make a new one.
 * @throws InvalidKeySet naming the problem (never the key material)
 */
export function publicKeySet(input: unknown): JSONWebKeySet {
  const keys = (input as { keys?: unknown } | null)?.keys;
  if (typeof input !== 'object' || input === null || Array.isArray(input) || !Array.isArray(keys)) {
    throw new InvalidKeySet('jwks must be a JWK set: {"keys": [...]}');
  }
  if (keys.length === 0 || keys.length > MAX_KEYS) throw new InvalidKeySet(`jwks must hold 1 to ${MAX_KEYS} keys`);
  return { keys: keys.map((key, index) => publicKey(key, index)) };
}

function publicKey(input: unknown, index: number): JWK {
  const where = `jwks.keys[${index}]`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidKeySet(`${where} must be a JWK object`);
  const jwk = input as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
    throw new InvalidKeySet(`${where} holds private or symmetric key material; register public keys only`);
  }
  const members = typeof jwk.kty === 'string' ? PUBLIC_MEMBERS[jwk.kty] : undefined;
  if (members === undefined) throw new InvalidKeySet(`${where}.kty must be RSA, EC or OKP`);
  if (jwk.kty !== 'RSA' && !CURVES[jwk.kty as string]!.includes(jwk.crv as string)) {
    throw new InvalidKeySet(`${where}.crv must be one of ${CURVES[jwk.kty as string]!.join(', ')}`);
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new InvalidKeySet(`${where}.use must be "sig"`);
  if (jwk.alg !== undefined && !CLIENT_ASSERTION_ALGORITHMS.includes(jwk.alg as string)) {
    throw new InvalidKeySet(`${where}.alg must be one of ${CLIENT_ASSERTION_ALGORITHMS.join(', ')}`);
  }
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length > 256)) throw new InvalidKeySet(`${where}.kid must be a string`);
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.every((op) => op === 'verify'))) {
    throw new InvalidKeySet(`${where}.key_ops may only hold "verify"`);
  }
  const kept = Object.fromEntries(
    [...members, ...DESCRIPTIVE_MEMBERS].filter((member) => jwk[member] !== undefined).map((member) => [member, jwk[member]]),
  ) as JWK;
  let details;
  try {
    const key = createPublicKey({ key: kept as import('node:crypto').JsonWebKey, format: 'jwk' });
    if (key.type !== 'public') throw new Error('not a public key');
    details = key.asymmetricKeyDetails;
  } catch {
    throw new InvalidKeySet(`${where} is not a valid public key`);
  }
  if (jwk.kty === 'RSA' && (details?.modulusLength ?? 0) < MIN_RSA_BITS)
    throw new InvalidKeySet(`${where} must be an RSA key of at least ${MIN_RSA_BITS} bits`);
  return kept;
}

/** How long a fetched jwks_uri set is used before it is fetched again, and the least time between two fetches. */
const REMOTE_CACHE_MAX_AGE_MS = 10 * 60_000;
const REMOTE_COOLDOWN_MS = 30_000;
const REMOTE_TIMEOUT_MS = 5000;
/** Clients whose key resolvers are kept; past that the oldest is dropped (and rebuilt on its next use). */
const MAX_CACHED_CLIENTS = 1000;

interface CachedResolver {
  readonly source: string;
  readonly resolve: JWTVerifyGetKey;
}

/**
 * The keys that verify each client's assertions: its registered set, or its jwks_uri fetched by
 * jose (cached, with a cooldown between fetches, so a flood of assertions with unknown kids cannot
 * make us hammer the client's server). A resolver is rebuilt when the registration changes.
 */
export class ClientKeyResolvers {
  private readonly resolvers = new Map<string, CachedResolver>();

  resolverFor(client: { readonly id: string; readonly jwks: JSONWebKeySet | null; readonly jwksUri: string | null }): JWTVerifyGetKey | undefined {
    const source = client.jwksUri ?? (client.jwks === null ? undefined : JSON.stringify(client.jwks));
    if (source === undefined) return undefined;
    const cached = this.resolvers.get(client.id);
    if (cached?.source === source) return cached.resolve;
    const resolve =
      client.jwksUri !== null
        ? createRemoteJWKSet(new URL(client.jwksUri), {
            cacheMaxAge: REMOTE_CACHE_MAX_AGE_MS,
            cooldownDuration: REMOTE_COOLDOWN_MS,
            timeoutDuration: REMOTE_TIMEOUT_MS,
          })
        : createLocalJWKSet(client.jwks!);
    this.resolvers.delete(client.id);
    if (this.resolvers.size >= MAX_CACHED_CLIENTS) this.resolvers.delete(this.resolvers.keys().next().value!);
    this.resolvers.set(client.id, { source, resolve });
    return resolve;
  }
}
