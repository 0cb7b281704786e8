import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { CachedResource } from './cached-resource.js';
import { VerifierError, type VerifierErrorCode } from './errors.js';

export interface RevocationOptions {
  /** The service's revocation feed, e.g. https://auth.example.com/.well-known/revocations */
  readonly feedUri: string;
  /**
   * Service client credentials the feed asks for, sent as HTTP Basic: a client registered with
   * `client_secret_basic` (POST /admin/clients), or one named in the service's INTROSPECTION_CLIENTS.
   */
  readonly clientId: string;
  readonly clientSecret: string;
  /** How often to poll it (a 304 when nothing changed). Default 5 s. */
  readonly pollIntervalMs?: number;
  /** After this long without a successful poll, tokens are refused (or let through, see failOpen). Default 30 s. */
  readonly maxStalenessMs?: number;
  /** Accept tokens when the feed is stale instead of refusing them. Default false: fail closed. */
  readonly failOpen?: boolean;
}

export interface VerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** The service's JWKS, e.g. https://auth.example.com/.well-known/jwks.json */
  readonly jwksUri: string;
  /** Seconds of clock difference tolerated on exp/nbf/iat. Default 30. */
  readonly clockToleranceSeconds?: number;
  /** At most one JWKS refetch per this interval when a token names an unknown kid. Default 30 s. */
  readonly unknownKidCooldownMs?: number;
  /** Opt-in revocation awareness. */
  readonly revocation?: RevocationOptions;
  /** For tests and custom agents; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  /** For tests: the current time in epoch milliseconds; defaults to Date.now. */
  readonly now?: () => number;
}

/**
 * A verified access token of auth-service (RFC 9068 claims plus sid, roles, email). A user's token
 * has a `sid` and an `email`; a service client's own token (client credentials) has neither, and
 * its `sub` is its `clientId`.
 */
export interface VerifiedToken {
  readonly sub: string;
  /** The user's session; undefined for a service client's token. */
  readonly sid: string | undefined;
  /** RFC 9068 `client_id`: the first-party client for user tokens, the client itself for its own. */
  readonly clientId: string | undefined;
  /** RFC 9068 `scope`, split; empty when the token has none. */
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly email: string | undefined;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string | undefined;
  /** The user's token generation when issued (`gen`); a user-wide revocation raises it. */
  readonly gen: number;
  readonly claims: JWTPayload;
}

export interface Verifier {
  /** Resolves with the token's claims or rejects with a VerifierError. */
  verify(token: string): Promise<VerifiedToken>;
  /** Resolves once keys (and revocations, if enabled) have been fetched once. */
  ready(): Promise<void>;
  /** Stops polling. */
  close(): void;
}

interface RevocationSnapshot {
  sessions: Set<string>;
  /** Per token subject (user id or service client id), the oldest token generation that still counts. */
  generations: Map<string, number>;
  /** jti of service-client tokens revoked on their own. */
  tokens: Set<string>;
}

const JOSE_CODES: Record<string, VerifierErrorCode> = {
  ERR_JWT_EXPIRED: 'token_expired',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claim_invalid',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature_invalid',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown_key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'unknown_key',
};

function toVerifierError(error: unknown): VerifierError {
  if (error instanceof VerifierError) return error;
  const code = (error as { code?: string }).code ?? '';
  const claim = (error as { claim?: string }).claim;
  const mapped = claim === 'nbf' ? 'token_not_yet_valid' : (JOSE_CODES[code] ?? 'token_malformed');
  return new VerifierError(mapped, 'The access token was refused', { cause: error });
}

function parseJwks(json: unknown): JSONWebKeySet {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as JSONWebKeySet).keys)) throw new Error('not a JWK set');
  return json as JSONWebKeySet;
}

function parseFeed(json: unknown): RevocationSnapshot {
  const feed = json as { sessions?: unknown; generations?: unknown; tokens?: unknown };
  if (!Array.isArray(feed.sessions) || typeof feed.generations !== 'object' || feed.generations === null) throw new Error('not a revocation feed');
  // `tokens` came later; a service that does not send it has revoked no client token on its own.
  if (feed.tokens !== undefined && !Array.isArray(feed.tokens)) throw new Error('not a revocation feed');
  return {
    sessions: new Set(feed.sessions.filter((sid): sid is string => typeof sid === 'string')),
    tokens: new Set(((feed.tokens ?? []) as unknown[]).filter((jti): jti is string => typeof jti === 'string')),
    generations: new Map(
      Object.entries(feed.generations as Record<string, unknown>).filter((entry): entry is [string, number] => Number.isInteger(entry[1])),
    ),
  };
}

/**
 * Verifies auth-service access tokens locally: RS256 only, `typ: at+jwt`, issuer, audience and
 * lifetime checked with a small clock tolerance. Keys come from the JWKS, cached as its
 * Cache-Control allows and revalidated by ETag; a token naming an unknown kid triggers at most one
 * refetch per cooldown, so forged kids cannot turn the verifier into a request amplifier.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const cooldownMs = options.unknownKidCooldownMs ?? 30_000;
  const jwks = new CachedResource(options.jwksUri, parseJwks, fetchImpl, 300_000);
  let keySet: { source: JSONWebKeySet; resolve: ReturnType<typeof createLocalJWKSet> } | undefined;
  let lastUnknownKidRefetch = 0;

  const revocation = options.revocation;
  const feed =
    revocation &&
    new CachedResource(revocation.feedUri, parseFeed, fetchImpl, 0, {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(revocation.clientId)}:${encodeURIComponent(revocation.clientSecret)}`).toString('base64')}`,
    });
  const pollIntervalMs = revocation?.pollIntervalMs ?? 5000;
  const maxStalenessMs = revocation?.maxStalenessMs ?? 30_000;
  const poller = feed && setInterval(() => void feed.refresh().catch(() => undefined), pollIntervalMs);
  poller?.unref();

  const resolverFor = (source: JSONWebKeySet) => {
    if (keySet?.source !== source) keySet = { source, resolve: createLocalJWKSet(source) };
    return keySet.resolve;
  };

  const currentKeys = async (): Promise<JSONWebKeySet> => {
    try {
      return await jwks.get();
    } catch (error) {
      // Keep verifying with the last keys while the JWKS is briefly unreachable.
      if (jwks.current !== undefined) return jwks.current;
      throw new VerifierError('jwks_unavailable', `Could not fetch ${options.jwksUri}`, { cause: error });
    }
  };

  const verifySignature = async (token: string, source: JSONWebKeySet) =>
    jwtVerify(token, resolverFor(source), {
      algorithms: ['RS256'],
      typ: 'at+jwt',
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds ?? 30,
      currentDate: new Date(now()),
      // `sid` only on user tokens: a service client's own token has no session.
      requiredClaims: ['exp', 'iat', 'sub'],
    });

  const checkRevocation = (token: VerifiedToken) => {
    if (feed === undefined) return;
    if (Date.now() - feed.lastSuccessAt > maxStalenessMs) {
      if (revocation?.failOpen) return;
      throw new VerifierError('revocations_stale', 'The revocation feed has not been reachable recently');
    }
    const snapshot = feed.current!;
    const currentGeneration = snapshot.generations.get(token.sub);
    if (
      (token.sid !== undefined && snapshot.sessions.has(token.sid)) ||
      (token.jti !== undefined && snapshot.tokens.has(token.jti)) ||
      (currentGeneration !== undefined && token.gen < currentGeneration)
    ) {
      throw new VerifierError('token_revoked', 'This token, its session or its client has been revoked');
    }
  };

  return {
    async verify(token) {
      if (typeof token !== 'string' || token.length === 0) throw new VerifierError('token_missing', 'No access token');
      let result;
      try {
        try {
          result = await verifySignature(token, await currentKeys());
        } catch (error) {
          const unknownKid = (error as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY';
          if (!unknownKid || Date.now() - lastUnknownKidRefetch < cooldownMs) throw error;
          lastUnknownKidRefetch = Date.now();
          result = await verifySignature(token, await jwks.refresh());
        }
      } catch (error) {
        throw toVerifierError(error);
      }
      const { payload } = result;
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
      // A user token without a session, or a client token that is not its own client's, was not made by auth-service.
      const isClientToken = payload.sid === undefined;
      if ((!isClientToken && typeof payload.sid !== 'string') || (isClientToken && payload.client_id !== payload.sub)) {
        throw new VerifierError('claim_invalid', 'The access token was refused');
      }
      const verified: VerifiedToken = {
        sub: payload.sub!,
        sid: isClientToken ? undefined : (payload.sid as string),
        clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
        scopes: typeof payload.scope === 'string' && payload.scope !== '' ? payload.scope.split(' ') : [],
        roles,
        email: typeof payload.email === 'string' ? payload.email : undefined,
        iat: payload.iat!,
        exp: payload.exp!,
        jti: payload.jti,
        gen: Number.isInteger(payload.gen) ? (payload.gen as number) : 0,
        claims: payload,
      };
      // The first verification waits for the first poll instead of failing closed at once.
      if (feed !== undefined && feed.current === undefined) await feed.refresh().catch(() => undefined);
      checkRevocation(verified);
      return verified;
    },
    async ready() {
      await Promise.all([currentKeys(), feed?.refresh()]);
    },
    close() {
      if (poller !== undefined) clearInterval(poller);
    },
  };
}
